// Starts Swagger UI on the sandbox's copy of its spec, with the banner key already
// entered for every scheme that can take it, so "Try it out" works without typing.
// The settings come from the page's JSON block: no inline script, no remote URL.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("sandbox-docs-config").textContent);

  function preauthorize(ui) {
    if (!config.apiKey) {
      return; // beyond loopback the key is only for the admin
    }
    config.apiKeySchemes.forEach(function (name) {
      ui.preauthorizeApiKey(name, config.apiKey);
    });
    config.basicSchemes.forEach(function (name) {
      // the sandbox accepts a known key as either half of Basic credentials
      ui.preauthorizeBasic(name, config.apiKey, "");
    });
  }

  window.addEventListener("load", function () {
    var ui = SwaggerUIBundle({
      url: config.specUrl,
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
      layout: "BaseLayout",
      deepLinking: true,
      validatorUrl: null,
      oauth2RedirectUrl: config.oauth2RedirectUrl,
      onComplete: function () {
        preauthorize(ui);
      },
    });
    window.ui = ui;
  });
})();
