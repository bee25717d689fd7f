"""The merchant API over a real Redis, with a real Celery worker running the syncs."""

from __future__ import annotations

import io
import json
import time

from flask.testing import FlaskClient

from storebot.services import Services
from tests.conftest import FIXTURES


def wait_for_job(client: FlaskClient, auth: dict[str, str], job_id: str, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=auth).get_json()
        if job["state"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def upload(client: FlaskClient, auth: dict[str, str], path: str, data: bytes, filename: str, **query: str):  # type: ignore[no-untyped-def]
    return client.post(
        path,
        headers=auth,
        query_string=query,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_upload_demo_catalog_and_reviews_through_the_worker(
    app,
    client: FlaskClient,
    auth: dict[str, str],
    celery_worker: object,  # type: ignore[no-untyped-def]
) -> None:
    app.config["INDEX_AFTER_SYNC"] = False  # indexing the whole demo store is test_demo's job, not this test's
    app.config["ANALYZE_AFTER_SYNC"] = False  # and analysing its reviews is test_api_reviews_insights's
    response = upload(client, auth, "/api/v1/catalog", (FIXTURES / "products.json").read_bytes(), "products.json")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["job"]["format"] == "shopify" and response.headers["Location"] == body["links"]["self"]
    job = wait_for_job(client, auth, body["job"]["id"])
    assert job["state"] == "succeeded", job
    assert job["counts"]["added"] >= 150 and job["counts"]["failed"] == 0

    reviews = upload(client, auth, "/api/v1/reviews", (FIXTURES / "reviews.csv").read_bytes(), "reviews.csv")
    job = wait_for_job(client, auth, reviews.get_json()["job"]["id"])
    assert job["state"] == "succeeded" and job["counts"]["added"] >= 600

    page = client.get("/api/v1/products?limit=5", headers=auth).get_json()
    assert page["total"] == job_counts_total(client, auth) and len(page["items"]) == 5
    assert page["next_offset"] == 5
    rated = [p for p in client.get("/api/v1/products?limit=200", headers=auth).get_json()["items"] if p["rating_count"]]
    assert rated, "rating aggregates are computed from the synced reviews"


def job_counts_total(client: FlaskClient, auth: dict[str, str]) -> int:
    return int(client.get("/api/v1/products?limit=1", headers=auth).get_json()["total"])


def test_row_errors_are_reported_by_the_job(client: FlaskClient, auth: dict[str, str], celery_worker: object) -> None:
    feed = b"id,title,price\n1,Tent,199.00\n,No id,5.00\n3,Bad price,abc\n4,Stove,49.50\n"
    response = upload(client, auth, "/api/v1/catalog", feed, "products.csv")
    job = wait_for_job(client, auth, response.get_json()["job"]["id"])
    assert job["state"] == "succeeded"
    assert job["counts"] == {"received": 4, "added": 2, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 2}
    assert {(e["line"], e["field"]) for e in job["errors"]} == {(3, "id"), (4, "price")}


def test_a_broken_feed_fails_the_job_and_keeps_the_catalog(
    client: FlaskClient, auth: dict[str, str], celery_worker: object
) -> None:
    good = b'{"id": "keep", "title": "Keeper", "price": "5"}\n'
    wait_for_job(client, auth, upload(client, auth, "/api/v1/catalog", good, "p.jsonl").get_json()["job"]["id"])
    broken = b'<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>1</item>'
    response = upload(client, auth, "/api/v1/catalog", broken, "feed.xml", full="true")
    job = wait_for_job(client, auth, response.get_json()["job"]["id"])
    assert job["state"] == "failed" and "Nothing was changed" in job["message"]
    assert client.get("/api/v1/products/keep", headers=auth).status_code == 200


def test_raw_body_upload_with_explicit_format(client: FlaskClient, auth: dict[str, str], celery_worker: object) -> None:
    body = json.dumps({"policies": [{"id": "returns", "title": "Returns", "body": "30 days."}]}).encode()
    response = client.post("/api/v1/policies?format=json", headers=auth, data=body, content_type="application/json")
    assert response.status_code == 202
    assert wait_for_job(client, auth, response.get_json()["job"]["id"])["state"] == "succeeded"
    assert client.get("/api/v1/policies", headers=auth).get_json()["items"][0]["id"] == "returns"


def test_raw_body_upload_with_curls_default_content_type(
    client: FlaskClient, auth: dict[str, str], celery_worker: object
) -> None:
    """`curl --data-binary @p.jsonl` sends application/x-www-form-urlencoded: the body is still the feed."""
    feed = b'{"id": "c1", "title": "Curl Upload Tent", "price": "99"}\n'
    response = client.post("/api/v1/catalog?format=jsonl", headers=auth, data=feed,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_job(client, auth, response.get_json()["job"]["id"])
    assert job["state"] == "succeeded" and job["counts"]["added"] == 1, job
    examples = b'{"question": "Do you ship to Canada?", "answer": "Yes, in 5-8 business days."}\n'
    imported = client.post("/api/v1/tuning/examples", headers=auth, data=examples,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert imported.status_code == 201 and imported.get_json()["added"] == 1, imported.get_json()


def test_keys_are_checked(client: FlaskClient, services: Services, store: tuple[str, str]) -> None:
    assert client.get("/api/v1/products").status_code == 401
    wrong = client.get("/api/v1/products", headers={"Authorization": "Bearer sk_nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["fix"]
    publishable = services.stores.get(store[0]).publishable_key
    assert client.get("/api/v1/products", headers={"Authorization": f"Bearer {publishable}"}).status_code == 403


def test_store_a_key_cannot_touch_store_b(client: FlaskClient, services: Services, celery_worker: object) -> None:
    _a, secret_a = services.stores.create("A", store_id="store-a")
    _b, secret_b = services.stores.create("B", store_id="store-b")
    auth_a, auth_b = {"Authorization": f"Bearer {secret_a}"}, {"Authorization": f"Bearer {secret_b}"}
    job_b = upload(client, auth_b, "/api/v1/catalog", b'{"id": "b1", "title": "B only", "price": "1"}\n', "b.jsonl")
    job_id = job_b.get_json()["job"]["id"]
    assert wait_for_job(client, auth_b, job_id)["state"] == "succeeded"

    for response in (client.get("/api/v1/products/b1", headers=auth_a),
                     client.get(f"/api/v1/jobs/{job_id}", headers=auth_a),
                     client.delete("/api/v1/products/b1", headers=auth_a)):  # fmt: skip
        error = response.get_json()["error"]
        assert response.status_code == 404 and error["code"] == "not_found" and error["fix"], error
    assert client.get("/api/v1/products/b1", headers=auth_b).status_code == 200


def test_bad_requests_get_json_errors_not_500s(client: FlaskClient, auth: dict[str, str], app) -> None:  # type: ignore[no-untyped-def]
    unknown = upload(client, auth, "/api/v1/catalog", b"hello", "feed.bin")
    assert unknown.status_code == 400 and "format" in unknown.get_json()["error"]["message"].lower()
    bad_format = upload(client, auth, "/api/v1/catalog", b"x", "f.csv", format="yaml")
    assert bad_format.status_code == 400 and bad_format.get_json()["error"]["fix"]
    bad_map = upload(client, auth, "/api/v1/catalog", b"id,title\n1,a\n", "f.csv", map="{not json")
    assert bad_map.status_code == 400
    empty = client.post("/api/v1/catalog", headers=auth, data=b"")
    assert empty.status_code == 400
    bad_page = client.get("/api/v1/products?limit=100000", headers=auth)
    assert bad_page.status_code == 400
    missing = client.get("/api/v1/products/nope", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/nowhere").get_json()["error"]["code"] == "not_found"

    app.config["MAX_CONTENT_LENGTH"] = 1024
    too_big = client.post("/api/v1/catalog", headers=auth, data=b"x" * 4096, content_type="text/csv")
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "payload_too_large"


def test_delete_api(client: FlaskClient, auth: dict[str, str], celery_worker: object) -> None:
    feed = b"".join(json.dumps({"id": i, "title": i, "price": "1"}).encode() + b"\n" for i in ("a", "b", "c"))
    wait_for_job(client, auth, upload(client, auth, "/api/v1/catalog", feed, "p.jsonl").get_json()["job"]["id"])
    assert client.delete("/api/v1/products/a", headers=auth).get_json()["deleted"] == 1
    many = client.post("/api/v1/products/delete", headers=auth, json={"ids": ["b", "zzz"]}).get_json()
    assert (many["requested"], many["deleted"]) == (2, 1)
    assert client.post("/api/v1/products/delete", headers=auth, json={"ids": "b"}).status_code == 400
    assert client.get("/api/v1/products", headers=auth).get_json()["total"] == 1
