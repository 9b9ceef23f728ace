"""Reading an OpenAPI document: parse, bundle, convert Swagger 2.0, validate, cache, compile."""
