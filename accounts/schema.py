"""OpenAPI pieces of the accounts endpoints: the schemes behind Swagger's Authorize, bodies on DELETE.

Imported by ``accounts.views``, which registers the authentication extension
before the schema is generated. The error responses are ``api.schema``'s.
"""

from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework_simplejwt.settings import api_settings as jwt_settings


class JWTBearerAndOAuth2Scheme(OpenApiAuthenticationExtension):
    """Bearer JWTs, offered in Swagger's Authorize dialog two ways.

    ``jwtAuth``: paste the access token from POST /api/auth/login/.
    ``oauth2``: the OAuth2 password flow, whose token URL is that same login
    endpoint (it accepts the form and answers with ``access_token``).
    Either one is enough (OR), hence two requirement objects.
    """

    target_class = "accounts.authentication.JWTAuthentication"
    name = ["jwtAuth", "oauth2"]
    priority = 1  # over drf-spectacular's own bearer-only extension

    def get_security_requirement(self, auto_schema):
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        bearer = build_bearer_security_scheme_object(
            header_name=jwt_settings.AUTH_HEADER_NAME,
            token_prefix=jwt_settings.AUTH_HEADER_TYPES[0],
            bearer_format="JWT",
        )
        oauth2 = {
            "type": "oauth2",
            "description": "Username and password; Swagger UI posts them to the login endpoint for you.",
            "flows": {"password": {"tokenUrl": reverse("auth-login"), "scopes": {}}},
        }
        return [bearer, oauth2]


class BodyOnDeleteSchema(AutoSchema):
    """drf-spectacular documents request bodies of PUT, PATCH and POST only; the contract's
    ``DELETE /api/auth/mfa/totp/`` takes ``{"password"}``, and the schema (hence schemathesis)
    must say so."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        # The method is read only for drf-spectacular's "may it have a body" check.
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
