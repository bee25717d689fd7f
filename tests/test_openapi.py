"""The OpenAPI document agrees with the app's routes, both ways, and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

RULE_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
DOCUMENTED_OUTSIDE_API = {"/healthz", "/readyz"}


def routes(app: Flask) -> dict[str, set[str]]:
    """Every /api/v1 route (and the health checks) as OpenAPI path -> methods."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") or rule.rule in DOCUMENTED_OUTSIDE_API:
            path = RULE_PARAM.sub(r"{\1}", rule.rule)
            found.setdefault(path, set()).update(m.lower() for m in rule.methods - IGNORED_METHODS)
    return found


def documented(spec: dict) -> dict[str, set[str]]:  # type: ignore[type-arg]
    return {path: set(item) & HTTP_METHODS for path, item in spec["paths"].items()}


def test_every_route_is_documented_and_every_documented_path_exists(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    actual, docs = routes(app), documented(spec)
    undocumented = {p: sorted(m - docs.get(p, set())) for p, m in actual.items() if m - docs.get(p, set())}
    assert not undocumented, f"routes missing from storebot/api/spec: {undocumented}"
    phantom = {p: sorted(m - actual.get(p, set())) for p, m in docs.items() if m - actual.get(p, set())}
    assert not phantom, f"documented but not served: {phantom}"


def test_path_parameters_match_the_routes(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{method.upper()} {path} declares {declared}, the path has {names}"


def test_errors_and_security_are_described(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["properties"]["error"]["required"] == ["code", "message"]
    assert "fix" in error["properties"]["error"]["properties"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["secretKey"]["scheme"] == "bearer" and schemes["publishableKey"]["name"] == "key"
    retry = spec["components"]["responses"]["TooManyRequests"]["headers"]
    assert "Retry-After" in retry
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not path.startswith("/api/v1/") or path == "/api/v1/openapi.json":
                continue
            assert op["security"], f"{method.upper()} {path} names no key"
            assert {"400", "429"} <= set(op["responses"]), f"{method.upper()} {path} lacks 400/429"
            if "requestBody" in op:
                assert "413" in op["responses"], f"{method.upper()} {path} takes a body but documents no 413"


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    import schemathesis

    spec = client.get("/api/v1/openapi.json").get_json()
    schemathesis.openapi.from_dict(spec).validate()  # against the OpenAPI 3.1 meta-schema
    broken = {**spec, "paths": {"/x": {"get": {"responses": {"200": {"description": 5}}}}}}
    try:
        schemathesis.openapi.from_dict(broken).validate()
    except Exception as exc:  # the validator is live: a broken document is refused
        assert "description" in str(exc) or "5" in str(exc)
    else:
        raise AssertionError("an invalid document passed validation")


def test_an_undocumented_route_is_caught(app: Flask) -> None:
    from storebot.api.spec import build_spec

    spec = build_spec("test")

    def missing() -> set[str]:
        return {p for p, m in routes(app).items() if m - documented(spec).get(p, set())}

    before = missing()
    app.add_url_rule("/api/v1/brand-new/<thing_id>", "brand_new", lambda thing_id: "", methods=["PUT"])
    assert missing() - before == {"/api/v1/brand-new/{thing_id}"}
