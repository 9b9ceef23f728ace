"""Property-name realism: which kind of value a property name asks for.

`kind_for("avatarUrl")` maps any case style to a kind ("image_url"): `NAMES` maps compact names
to kind names, and kinds.py says what each kind can fill and how to make it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sandbox.generation.kinds import KINDS, Kind

_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def tokens(name: str) -> list[str]:
    """Split `first_name`, `firstName`, `FirstName`, `FIRST-NAME` into lower-case words."""
    return [t.lower() for t in _TOKEN.findall(name)]


@lru_cache(maxsize=8192)
def kind_for(name: str | None) -> Kind | None:
    """The kind for a property name: the longest known tail of its words wins."""
    if not name:
        return None
    words = tokens(name)
    for i in range(len(words)):
        kind = NAMES.get("".join(words[i:]))
        if kind is not None:
            return KINDS[kind]
    return None


@lru_cache(maxsize=4096)
def singular(name: str | None) -> str | None:
    """`tags` -> `tag`, `addresses` -> `address`: array items are named after one element."""
    if not name or len(name) < 3:
        return name
    lower = name.lower()
    if lower.endswith("ies"):
        return name[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return name[:-1]
    return name


# what a client of any API reads from an object it is given, required or not
_READ_NAMES = frozenset({
    "id", "sid", "uid", "uuid", "guid", "object", "name", "title", "displayname", "fullname",
    "username", "login", "email", "links", "link", "self", "metadata", "status",
})  # fmt: skip
_READ_TAILS = ("id", "sid", "url", "uri", "href")
_STAMP_WORDS = frozenset({"created", "updated", "modified"})


@lru_cache(maxsize=8192)
def clients_read(name: str, fmt: str | None = None) -> bool:
    """Whether a property is one clients of an API read (its ids, names and titles, links,
    timestamps, ``object`` kind, metadata), so a generated object keeps it where the schema
    marks nothing required, as vendors' specs often do: an account without a name or a
    record without its id is not what any real API answers."""
    words = tokens(name)
    if not words:
        return False
    if "".join(words) in _READ_NAMES or words[-1] in _READ_TAILS:
        return True
    return bool(_STAMP_WORDS.intersection(words)) and fmt in ("date-time", "date", None)


def _names(kind: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, kind)


# Compact names (words joined, lower case) -> kind. A name matches its longest known tail.
NAMES: dict[str, str] = {
    **_names("first_name", "firstname", "givenname", "forename", "middlename"),
    **_names("last_name", "lastname", "familyname", "surname"),
    **_names(
        "full_name",
        "name",
        "fullname",
        "displayname",
        "contactname",
        "customername",
        "author",
        "authorname",
        "ownername",
        "holdername",
        "cardholder",
    ),
    **_names("username", "username", "login", "handle", "screenname", "nickname", "userhandle"),
    **_names("email", "email", "emailaddress", "mail"),
    **_names(
        "phone",
        "phone",
        "phonenumber",
        "mobile",
        "mobilenumber",
        "telephone",
        "tel",
        "fax",
        "cellphone",
    ),
    **_names(
        "address", "address", "streetaddress", "addressline", "addressline1", "address1", "line1"
    ),
    **_names("address2", "addressline2", "address2", "line2"),
    **_names("full_address", "fulladdress", "mailingaddress", "billingaddress", "shippingaddress"),
    **_names("street", "street", "streetname"),
    **_names("city", "city", "town", "locality"),
    **_names("state", "state", "province", "region"),
    **_names("state_code", "statecode", "stateabbr"),
    **_names("country", "country", "countryname", "nationality"),
    **_names("country_code", "countrycode", "countryiso", "iso2"),
    **_names("postcode", "zip", "zipcode", "postalcode", "postcode"),
    **_names(
        "company",
        "company",
        "companyname",
        "organization",
        "organisation",
        "org",
        "employer",
        "businessname",
        "orgname",
        "organizationname",
        "vendor",
        "brand",
    ),
    **_names("job_title", "job", "jobtitle", "occupation", "profession"),
    **_names(
        "url",
        "url",
        "uri",
        "link",
        "href",
        "website",
        "homepage",
        "webpage",
        "callbackurl",
        "webhookurl",
        "redirecturi",
        "redirecturl",
    ),
    **_names(
        "image_url",
        "avatar",
        "avatarurl",
        "image",
        "imageurl",
        "photo",
        "photourl",
        "picture",
        "pictureurl",
        "thumbnail",
        "thumbnailurl",
        "logo",
        "logourl",
        "icon",
        "iconurl",
        "profileimage",
        "profilepicture",
        "img",
        "cover",
        "coverurl",
    ),
    **_names("domain", "domain", "hostname", "host", "domainname"),
    **_names(
        "sentence",
        "description",
        "bio",
        "summary",
        "comment",
        "comments",
        "notes",
        "note",
        "message",
        "details",
        "about",
        "body",
        "content",
        "text",
        "caption",
        "reason",
        "instructions",
        "remarks",
        "feedback",
        "review",
        "excerpt",
    ),
    **_names("title", "title", "headline", "subject", "productname", "displaytitle"),
    **_names(
        "word",
        "tag",
        "keyword",
        "label",
        "category",
        "type",
        "kind",
        "topic",
        "genre",
        "species",
        "breed",
    ),
    **_names("currency", "currency", "currencycode", "currencyiso"),
    **_names(
        "money",
        "price",
        "amount",
        "total",
        "cost",
        "subtotal",
        "balance",
        "fee",
        "tax",
        "salary",
        "revenue",
        "budget",
        "unitprice",
        "totalprice",
        "totalamount",
        "grandtotal",
        "discount",
        "shipping",
        "charge",
        "payout",
        "income",
    ),
    **_names("count", "quantity", "qty", "count", "stock", "inventory", "units", "seats"),
    **_names("age", "age"),
    **_names("year", "year", "birthyear", "modelyear"),
    **_names("rating", "rating", "score", "stars"),
    **_names("percent", "percent", "percentage", "progress", "ratio"),
    **_names("latitude", "latitude", "lat"),
    **_names("longitude", "longitude", "lng", "lon", "long"),
    **_names("page", "page", "pagenumber"),
    **_names("page_size", "perpage", "pagesize", "limit"),
    **_names("offset", "offset", "skip"),
    **_names("pixels", "width", "height"),
    **_names("port", "port"),
    **_names("seconds", "duration", "timeout", "ttl", "seconds", "expiresin"),
    **_names("priority", "priority", "level"),
    **_names("weight", "weight", "mass"),
    **_names("color", "color", "colour", "hexcolor", "colorhex"),
    **_names("color_name", "colorname"),
    **_names("ipv4", "ip", "ipaddress", "ipv4", "clientip", "remoteaddr", "remoteip"),
    **_names("ipv6", "ipv6", "ipv6address"),
    **_names("user_agent", "useragent", "ua"),
    **_names("locale", "locale"),
    **_names("language", "language", "lang", "languagecode"),
    **_names("timezone", "timezone", "tz"),
    **_names("sku", "sku"),
    **_names("slug", "slug"),
    **_names("status", "status"),
    **_names("role", "role"),
    **_names("gender", "gender", "sex"),
    **_names(
        "token",
        "token",
        "secret",
        "apikey",
        "accesstoken",
        "refreshtoken",
        "nonce",
        "signature",
        "clientsecret",
    ),
    **_names("hash", "hash", "checksum", "sha256", "digest", "etag"),
    **_names("version", "version", "semver", "appversion"),
    **_names("id", "id", "identifier", "uid", "guid", "uuid", "externalid"),
    **_names("password", "password", "passwd", "pwd", "newpassword", "currentpassword"),
    **_names("mime_type", "mimetype", "contenttype", "mediatype"),
    **_names("file_name", "filename"),
    **_names("file_path", "filepath", "path"),
    **_names("iban", "iban"),
    **_names("card_number", "cardnumber", "creditcard", "creditcardnumber", "pan"),
    **_names("code", "code", "promocode", "couponcode", "referralcode", "voucher"),
    **_names(
        "created",
        "createdat",
        "created",
        "createdon",
        "datecreated",
        "creationdate",
        "createdtime",
        "createddate",
        "insertedat",
    ),
    **_names(
        "updated",
        "updatedat",
        "updated",
        "modifiedat",
        "modified",
        "lastmodified",
        "updatedon",
        "dateupdated",
        "datemodified",
        "lastupdated",
        "updatedtime",
    ),
    **_names(
        "past",
        "at",
        "timestamp",
        "timestamps",
        "datetime",
        "lastlogin",
        "lastseen",
        "lastloginat",
        "publishedat",
        "occurredat",
        "when",
    ),
    **_names(
        "future",
        "expiresat",
        "expiry",
        "expiration",
        "expires",
        "validuntil",
        "dueat",
        "duedate",
        "deadline",
        "expirydate",
        "expirationdate",
        "endsat",
        "scheduledfor",
    ),
    **_names("date", "date", "day"),
    **_names("birth_date", "birthdate", "birthday", "dob", "dateofbirth"),
    **_names("time", "time", "starttime", "endtime"),
}
