"""Feed parsers: each format's good feed, its malformed variants, detection and streaming.

Feeds are real bytes: sample files under tests/data/feeds/ and small
malformed ones written inline, read through ``parse_feed`` as a caller would.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from storebot.catalog.feeds import FORMATS, KINDS, ParsedRow, RowError, detect_format, parse_feed
from storebot.catalog.models import Policy, Product, Review
from storebot.errors import FeedError

FEEDS = Path(__file__).parent / "data" / "feeds"
BASE = "https://shop.example.com"


def parse(source: bytes | str, fmt: str, **kwargs: Any) -> list[ParsedRow]:
    """All rows of a feed given as bytes or as a file name under tests/data/feeds."""
    data = (FEEDS / source).read_bytes() if isinstance(source, str) else source
    return list(parse_feed(io.BytesIO(data), fmt, **kwargs))


def records(rows: list[ParsedRow]) -> dict[str, Any]:
    return {row.record.id: row.record for row in rows if row.record is not None}


def errors(rows: list[ParsedRow]) -> list[RowError]:
    return [e for row in rows for e in row.errors]


def only_error(rows: list[ParsedRow], line: int) -> RowError:
    [row] = [r for r in rows if r.line == line]
    assert row.record is None and len(row.errors) == 1, row.errors
    return row.errors[0]


# -- CSV / TSV ----------------------------------------------------------------


def test_csv_products_parse_with_variants_html_and_attributes() -> None:
    rows = parse("products.csv", "csv", base_url=BASE)
    assert not errors(rows)
    got = records(rows)
    assert set(got) == {"JKT-1", "MUG-1", "BOT-1"}

    jacket = got["JKT-1"]  # two rows sharing item_group_id, not adjacent
    assert jacket.title == "Ridge Shell Jacket"
    assert (jacket.price, jacket.sale_price, jacket.currency) == (Decimal("149.00"), Decimal("129.00"), "USD")
    assert [(v.id, v.options, v.price, v.sale_price, v.stock) for v in jacket.variants] == [
        ("JKT-1-M", {"size": "M", "color": "Blue"}, Decimal("149.00"), Decimal("129.00"), 4),
        ("JKT-1-L", {"size": "L", "color": "Blue"}, Decimal("139.00"), None, 2),
    ]
    assert jacket.stock == 6 and jacket.availability == "in_stock"
    assert jacket.category == ["Apparel", "Jackets"] and jacket.tags == ["rain", "shell"]
    assert jacket.attributes == {"material": "nylon"}
    assert jacket.description == "Light & dry.\n\n- Taped seams\n- Hood"
    assert jacket.description_html == "<p>Light &amp; <b>dry</b>.</p><ul><li>Taped seams</li><li>Hood</li></ul>"
    assert jacket.url == f"{BASE}/products/ridge-shell"
    assert jacket.images[:2] == ["https://cdn.example.com/jkt-1.jpg", "https://cdn.example.com/jkt-1-back.jpg"]
    assert jacket.variants[1].image == "https://cdn.example.com/jkt-1-l.jpg"

    mug = got["MUG-1"]  # quoted comma and a line break inside a quoted description
    assert mug.title == "Camp Mug, 350 ml" and mug.description == "Enamel mug.\nDishwasher safe."
    assert mug.description_html == "" and mug.price == Decimal("12.50") and mug.sale_price is None
    assert (mug.availability, mug.stock) == ("out_of_stock", 0)
    assert got["BOT-1"].price == Decimal("1299.00") and got["BOT-1"].availability == "preorder"
    # Lines are where each row starts, counting the quoted line break; groups come last.
    assert [(r.line, r.record.id) for r in rows] == [(3, "MUG-1"), (6, "BOT-1"), (2, "JKT-1")]


def test_csv_row_errors_name_line_and_field_and_keep_good_rows() -> None:
    feed = (
        b"id,title,price,sale_price,stock,availability,currency\n"
        b",No id,10,,,,\n"
        b"p2,,10,,,,\n"
        b"p3,Bad price,abc,,,,\n"
        b'p4,Comma price,"12,5",,,,\n'
        b"p5,Negative stock,10,,-2,,\n"
        b"p6,Sale above price,10,12,,,\n"
        b"p7,Odd availability,10,,,maybe,\n"
        b"p8,Two currencies,10 EUR,,,,USD\n"
        b"p9,Fine,NaN,,,,\n"
        b"p10,Good,-5,,,,\n"
        b'p11,Good,"$1,299.99",999.99,3,In Stock,usd\n'
    )
    rows = parse(feed, "csv")
    assert records(rows)["p11"].price == Decimal("1299.99") and records(rows)["p11"].stock == 3
    expected = {
        2: ("id", "id is missing"),
        3: ("title", "title is missing"),
        4: ("price", "price 'abc' is not a number; write it like 129.00"),
        5: ("price", "write it like 12.50"),
        6: ("stock", "'-2' is negative; write 0 when the item is sold out"),
        7: ("sale_price", "sale_price 12 is higher than price 10"),
        8: ("availability", "use in stock, out of stock, preorder or backorder"),
        9: ("price", "price is in EUR but the product is in USD"),
        10: ("price", "'NaN' is not a number"),
        11: ("price", "'-5' is negative"),
    }
    for line, (field, text) in expected.items():
        error = only_error(rows, line)
        assert error.field == field and text in error.message, (line, error)
        assert error.unit == "line"
    assert only_error(rows, 4).record_id == "p3"
    assert str(only_error(rows, 4)) == "line 4, field price: price 'abc' is not a number; write it like 129.00"
    assert only_error(rows, 4).to_dict() == {
        "line": 4, "field": "price", "message": "price 'abc' is not a number; write it like 129.00",
        "record_id": "p3", "unit": "line",
    }  # fmt: skip


def test_csv_row_with_latin1_bytes_fails_alone() -> None:
    feed = "id,title,price\np1,Café Mug,10\n".encode() + b"p2,Caf\xe9 Cup,11\n" + b"p3,Tea,12\n"
    rows = parse(feed, "csv")
    assert set(records(rows)) == {"p1", "p3"}
    assert records(rows)["p1"].title == "Café Mug"
    error = only_error(rows, 3)
    assert error.field == "title" and "not valid UTF-8 (it looks like Latin-1" in error.message
    assert error.message.endswith("re-save the file as UTF-8")
    assert "Café Cup" in error.message  # the Latin-1 guess shows the merchant which value it is
    assert error.record_id == "p2"


def test_csv_mapping_renames_columns() -> None:
    feed = b"Handle,Name,Variant Price,Body,Fabric\nmug,Camp Mug,12.50,<p>Enamel</p>,steel\n"
    mapping = {"id": "Handle", "title": "Name", "price": "Variant Price", "description": "body"}
    mapping["attr.material"] = "Fabric"
    [row] = parse(feed, "csv", mapping=mapping)
    assert row.record.to_dict()["price"] == "12.50"
    assert (row.record.id, row.record.title, row.record.description) == ("mug", "Camp Mug", "Enamel")
    assert row.record.attributes == {"material": "steel"}


def test_csv_mapping_to_a_missing_column_names_the_headers() -> None:
    feed = b"Handle,Name,Price\nmug,Camp Mug,12.50\n"
    with pytest.raises(FeedError) as info:
        parse(feed, "csv", mapping={"id": "Handle", "title": "Title"})
    assert info.value.line == 1
    assert "'Title'" in info.value.message
    assert "'Handle', 'Name', 'Price'" in info.value.fix
    with pytest.raises(FeedError, match="not a storebot products field"):
        parse(feed, "csv", mapping={"name": "Name"})


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        (b"", "the file is empty"),
        (b"sku,name,price\n1,a,2\n", "no 'id' column"),
        (b"mug,Camp Mug,12.50\n", "no 'id' column"),  # no header row at all
        (b'id,title\n1,"never closed\n2,b\n', "never closed"),
    ],
)
def test_csv_whole_file_problems_raise(feed: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message) as info:
        parse(feed, "csv")
    assert info.value.line is not None and info.value.fix


def test_csv_broken_quotes_and_extra_cells_sink_only_their_row() -> None:
    feed = b'id,title,price\np1,"Mug" x,10\np2,Cup,11,extra\np3,Tea,12\n'
    rows = parse(feed, "csv")
    assert set(records(rows)) == {"p3"}
    assert "quotes are broken" in only_error(rows, 2).message
    assert "3 values but the header has 2 columns" not in only_error(rows, 3).message
    assert "4 values but the header has 3 columns" in only_error(rows, 3).message


def test_csv_semicolons_bom_crlf_and_utf16_tsv() -> None:
    [row] = parse("\ufeffid;title;price\r\np1;Mug;10\r\n".encode(), "csv")
    assert (row.line, row.record.id, row.record.price) == (2, "p1", Decimal("10"))
    [row] = parse("id\ttitle\tprice\np1\tMüg\t10\n".encode("utf-16"), "tsv")
    assert row.record.title == "Müg"


def test_tsv_products_and_option_columns() -> None:
    feed = (
        b"id\ttitle\tprice\titem_group_id\toption.fit\tsize\n"
        b"t-s\tTee S\t20\ttee\tslim\tS\n"
        b"t-m\tTee M\t18\ttee\tslim\tM\n"
        b"solo\tSolo\t5\t\tloose\tXL\n"
    )
    got = records(parse(feed, "tsv"))
    assert got["tee"].title == "Tee" and got["tee"].price == Decimal("18")
    assert [v.options for v in got["tee"].variants] == [{"fit": "slim", "size": "S"}, {"fit": "slim", "size": "M"}]
    assert got["solo"].attributes == {"fit": "loose", "size": "XL"} and got["solo"].variants == []


def test_grouped_row_errors_name_the_group_and_keep_the_good_variants() -> None:
    feed = b"id,title,price,item_group_id,size\nv1,Tee S,20,tee,S\nv2,Tee M,abc,tee,M\n,Tee L,20,tee,L\n"
    rows = parse(feed, "csv")
    assert [v.id for v in records(rows)["tee"].variants] == ["v1"]
    assert only_error(rows, 3).record_id == "tee" and only_error(rows, 3).field == "price"
    assert only_error(rows, 4).field == "id"


# -- reviews and policies -----------------------------------------------------


def test_reviews_csv_coerces_and_reports() -> None:
    rows = parse("reviews.csv", "csv", kind="reviews")
    got = records(rows)
    body = "Kept me dry, even in a storm."
    assert got["r1"] == Review("r1", "JKT-1", 5, "Great", body, author="Ana", date="2026-03-14", verified=True)
    assert (got["r2"].rating, got["r2"].date, got["r2"].verified) == (4, "2026-03-15", False)
    assert only_error(rows, 4).field == "rating" and "out of range" in only_error(rows, 4).message
    [row] = [r for r in rows if r.line == 5]
    assert {e.field for e in row.errors} == {"date", "verified"}
    assert "write it like 2026-03-14" in row.errors[0].message


def test_reviews_jsonl_and_mapping() -> None:
    rows = parse("reviews.jsonl", "jsonl", kind="reviews")
    assert records(rows)["r1"].date == "2026-03-14" and records(rows)["r1"].verified is True
    assert "out of range" in only_error(rows, 2).message
    assert "not a whole number of stars" in only_error(rows, 3).message
    assert only_error(rows, 4).field == "product_id"
    feed = b"Review ID,SKU,Stars\nr9,JKT-1,5\n"
    [row] = parse(feed, "csv", kind="reviews", mapping={"id": "Review ID", "product_id": "SKU", "rating": "Stars"})
    assert (row.record.product_id, row.record.rating) == ("JKT-1", 5)


def test_policies_json_and_jsonl() -> None:
    rows = parse("policies.json", "json", kind="policies")
    got = records(rows)
    assert got["shipping"] == Policy(id="shipping", title="Shipping", body="Free over $50. Ships in 2 days.")
    assert got["returns"].title == "Returns" and got["returns"].body == "Returns\n\n30 days, unworn."
    error = only_error(rows, 3)
    assert (error.unit, error.field, error.record_id) == ("item", "body", "faq")
    [row] = parse(b'{"id": "faq", "title": "FAQ", "body": "Ask us."}\n', "jsonl", kind="policies")
    assert row.record == Policy(id="faq", title="FAQ", body="Ask us.")


# -- JSON / JSONL -------------------------------------------------------------


def test_json_products_with_nested_variants() -> None:
    rows = parse("products.json", "json", base_url=BASE)
    assert not errors(rows) and [r.line for r in rows] == [1, 2]
    jacket, mug = rows[0].record, rows[1].record
    assert isinstance(jacket, Product) and (jacket.price, jacket.sale_price) == (Decimal("149.0"), Decimal("129.00"))
    assert [(v.id, v.options["size"], v.stock, v.availability) for v in jacket.variants] == [
        ("JKT-1-M", "M", 4, "in_stock"), ("JKT-1-L", "L", 0, "out_of_stock"),
    ]  # fmt: skip
    assert jacket.description == "Light and dry." and jacket.description_html == "<p>Light and <em>dry</em>.</p>"
    assert jacket.attributes == {"material": "nylon", "weight_g": "320"}
    assert jacket.url == f"{BASE}/products/ridge-shell"
    assert (mug.price, mug.category, mug.tags) == (Decimal("12.5"), ["Kitchen", "Mugs"], ["enamel", "camp"])


def test_json_round_trips_our_own_export() -> None:
    product = parse("products.json", "json")[0].record
    feed = json.dumps([product.to_dict()]).encode()
    [row] = parse(feed, "json")
    assert row.record.content_hash() == product.content_hash()


def test_json_item_errors_are_numbered_by_position() -> None:
    feed = (
        b'{"exported": {"by": ["admin", {"x": 1}]}, "products": [{"id": "a", "title": "A", "price": "1"}, 7,'
        b' {"id": "c", "title": "C", "price": -1}, {"id": "d", "title": "D", "variants": [{"price": "x"}]}]}'
    )
    rows = parse(feed, "json")  # keys other than "products" are skipped
    assert rows[0].record.id == "a"
    assert (rows[1].errors[0].unit, rows[1].errors[0].line, rows[1].errors[0].field) == ("item", 2, None)
    assert only_error(rows, 3).field == "price" and "negative" in only_error(rows, 3).message
    assert [e.field for e in rows[3].errors] == ["variants[0].id", "variants[0].price"]


@pytest.mark.parametrize(
    ("feed", "message", "line"),
    [
        (b'{"products": [\n  {"id": "a", "title": "A"},\n  {"id": "b", "ti', "ends too early", 3),
        (b'[\n{"id": "a"},\n{"id": x}\n]', "the JSON is broken", 3),
        (b"this is not json", "the JSON is broken", 1),
        (b'"a string"', "a single string", 1),
        (b'{"items": [], "count": 0}', "no \"products\" array (it has 'items', 'count')", 1),
        (b'{"products": {"id": "a"}}', "must be a JSON array", 1),
        (b'{"reviews": [{"id": "r1"}]}', "a feed of reviews, not products", 1),
        (b'[{"id": "a", "title": "A"}]\n[{"id": "b", "title": "B"}]\n', "more after the JSON document", 2),
        (b'{"id": "a", "title": "A"}\n{"id": "b", "title": "B"}\n', "a single record, not a list", 1),
        (b'[{"title": "Caf\xe9"}]', "not valid UTF-8", 1),
    ],
)
def test_json_whole_document_problems_raise_with_a_line(feed: bytes, message: str, line: int) -> None:
    with pytest.raises(FeedError) as info:
        parse(feed, "json")
    assert message in info.value.message and info.value.line == line and info.value.fix


def test_jsonl_lines_fail_alone() -> None:
    rows = parse("products.jsonl", "jsonl")
    assert set(records(rows)) == {"JKT-1", "MUG-1"}
    assert records(rows)["MUG-1"].availability == "out_of_stock"
    assert [r.line for r in rows] == [1, 3, 4, 5, 6]  # the blank line 2 is skipped
    assert only_error(rows, 4).field == "price"
    assert "not valid JSON" in only_error(rows, 5).message
    assert only_error(rows, 6).field == "id"
    rows = parse(b'{"id": "a", "title": "A", "price": NaN}\n\xff{"id": "b"}\n', "jsonl")
    assert "not a number" in only_error(rows, 1).message and "not valid UTF-8" in only_error(rows, 2).message
    with pytest.raises(FeedError, match="not JSON Lines"):
        parse(b'{\n  "id": "a"\n}\n', "jsonl")


# -- Shopify ------------------------------------------------------------------


def test_shopify_products_json() -> None:
    rows = parse("shopify_products.json", "shopify", base_url=BASE + "/")
    got = records(rows)
    assert set(got) == {"1001", "1002"}  # the draft is skipped, the broken one reported
    jacket = got["1001"]
    assert (jacket.brand, jacket.category, jacket.tags) == (
        "Northpeak", ["Apparel", "Jackets", "Rain Jackets"], ["rain", "shell", "waterproof"],
    )  # fmt: skip
    assert jacket.url == f"{BASE}/products/ridge-shell-jacket"
    assert jacket.description == "Light & waterproof.\n\n- Taped seams"
    assert jacket.description_html == "<p>Light &amp; <strong>waterproof</strong>.</p><ul><li>Taped seams</li></ul>"
    assert "steal" not in jacket.description + jacket.description_html
    assert (jacket.price, jacket.sale_price, jacket.currency) == (Decimal("159.00"), Decimal("129.00"), "USD")
    medium, large = jacket.variants
    assert (medium.id, medium.sku, medium.options) == ("2001", "JKT-1-M-BLU", {"size": "M", "color": "Blue"})
    assert (medium.price, medium.sale_price, medium.stock, medium.availability) == (
        Decimal("159.00"), Decimal("129.00"), 4, "in_stock",
    )  # fmt: skip
    assert medium.image == "https://cdn.shopify.com/jkt-1-m.jpg"
    assert (large.price, large.sale_price, large.stock) == (Decimal("139.00"), None, 0)
    assert large.availability == "out_of_stock"  # available: false, and inventory -2 counts as none
    assert jacket.stock == 4 and jacket.availability == "in_stock"
    assert jacket.attributes == {"material": "3-layer nylon", "weight_g": "320"}
    assert jacket.images == ["https://cdn.shopify.com/jkt-1.jpg", "https://cdn.shopify.com/jkt-1-m.jpg"]

    mug = got["1002"]  # compare_at_price below price is no sale; "Default Title" is no option
    assert (mug.category, mug.price, mug.sale_price) == (["Mugs"], Decimal("12.50"), None)
    assert (mug.variants[0].options, mug.variants[0].title, mug.variants[0].availability) == ({}, "", "backorder")
    error = only_error(rows, 4)
    assert (error.unit, error.field, error.record_id) == ("item", "variants[0].price", "1004")


def test_shopify_wrong_shape_raises() -> None:
    with pytest.raises(FeedError, match='no "products" array'):
        parse(b'{"product": {"id": 1}}', "shopify")


# -- Google Merchant Center ---------------------------------------------------


def test_google_xml_groups_items_and_maps_fields() -> None:
    rows = parse("google.xml", "google-xml")
    got = records(rows)
    jacket, mug = got["JKT-1"], got["MUG-1"]
    assert jacket.title == "Ridge Shell Jacket" and jacket.description == "Light & dry shell."
    assert jacket.category == ["Apparel", "Jackets", "Rain Jackets"] and jacket.brand == "Northpeak"
    assert (jacket.price, jacket.sale_price, jacket.currency) == (Decimal("159.00"), Decimal("129.00"), "USD")
    assert [(v.id, v.options, v.availability) for v in jacket.variants] == [
        ("JKT-1-M", {"size": "M", "color": "Blue"}, "in_stock"),
        ("JKT-1-L", {"size": "L", "color": "Blue"}, "out_of_stock"),
    ]
    assert jacket.attributes == {"gender": "unisex", "google_product_category": "5598", "material": "3-layer nylon"}
    assert jacket.images[:2] == ["https://cdn.example.com/jkt-1-m.jpg", "https://cdn.example.com/jkt-1-back.jpg"]
    assert (mug.currency, mug.price, mug.stock, mug.availability) == ("EUR", Decimal("12.50"), 0, "out_of_stock")
    assert mug.url == "https://shop.example.com/products/camp-mug" and mug.attributes == {"color": "Green"}
    # Each row is at its <item>'s line.
    assert [(r.line, r.record and r.record.id) for r in rows] == [(30, "MUG-1"), (53, None), (7, "JKT-1")]
    assert only_error(rows, 53).field == "price" and only_error(rows, 53).record_id == "BAD-1"


@pytest.mark.parametrize(
    ("feed", "message", "line"),
    [
        (b'<rss xmlns:g="http://base.google.com/ns/1.0"><channel>\n<item><g:id>1</g:id>\n<g:title>A</title>\n',
         "mismatched tag", 3),
        (b'<rss xmlns:g="http://base.google.com/ns/1.0"><channel>\n<item><g:id>1</g:id>\n', "no element found", 3),
        (b'<?xml version="1.0"?>\n<products><item/></products>', "root element is <products>", 2),
        (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaa">]>\n<rss></rss>', "declares entities", 2),
    ],
)  # fmt: skip
def test_google_xml_broken_raises_with_a_line(feed: bytes, message: str, line: int) -> None:
    with pytest.raises(FeedError) as info:
        parse(feed, "google-xml")
    assert message in info.value.message and info.value.line == line and info.value.fix


def test_google_tsv() -> None:
    rows = parse("google.tsv", "google-tsv")
    assert not errors(rows)
    jacket, mug = records(rows)["JKT-1"], records(rows)["MUG-1"]
    assert jacket.title == "Ridge Shell Jacket"  # "Medium"/"Large" cut back to the shared words
    assert [(v.id, v.options["size"], v.price, v.availability) for v in jacket.variants] == [
        ("JKT-1-M", "M", Decimal("159.00"), "in_stock"), ("JKT-1-L", "L", Decimal("149.00"), "backorder"),
    ]  # fmt: skip
    assert (jacket.price, jacket.sale_price) == (Decimal("159.00"), Decimal("129.00"))
    assert jacket.images[:3] == [
        "https://cdn.example.com/m.jpg",
        "https://cdn.example.com/a.jpg",
        "https://cdn.example.com/b.jpg",
    ]
    assert jacket.attributes == {"Material": "nylon"}
    assert mug.category == ["Kitchen", "Mugs"] and mug.url == "https://shop.example.com/p/mug"


# -- detection and arguments --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "fmt"),
    [
        ("products.csv", "products", "csv"),
        ("products.json", "products", "json"),
        ("products.jsonl", "products", "jsonl"),
        ("shopify_products.json", "products", "shopify"),
        ("google.xml", "products", "google-xml"),
        ("google.tsv", "products", "google-tsv"),
        ("reviews.csv", "reviews", "csv"),
        ("policies.json", "policies", "json"),
    ],
)
def test_detect_format_of_the_sample_feeds(name: str, kind: str, fmt: str) -> None:
    assert detect_format(name, (FEEDS / name).read_bytes()[:8192], kind) == fmt
    assert detect_format("upload", (FEEDS / name).read_bytes()[:8192], kind) == fmt  # content alone is enough


def test_detect_format_edge_cases() -> None:
    assert detect_format("feed.txt", b"id\ttitle\tprice\turl\n") == "tsv"
    assert detect_format("feed.txt", b"g:id\tg:title\tg:price\tg:link\n") == "google-tsv"
    assert detect_format("feed.tsv", b"id\ttitle\tlink\n", "reviews") == "tsv"
    assert detect_format("feed.json", b'{"id": "a"}\n{"id": "b"}\n') == "jsonl"
    assert detect_format("x.json", b'{"products": [{"id": 1, "vendor": "V"}]}', "reviews") == "json"
    with pytest.raises(FeedError, match="not a Google Merchant Center feed"):
        detect_format("blog.xml", b"<rss><channel><item/></channel></rss>")
    with pytest.raises(FeedError, match="spreadsheet") as info:
        detect_format("products.xlsx", b"PK\x03\x04rest")
    assert "CSV" in info.value.fix
    with pytest.raises(FeedError) as info:
        detect_format("products.bin", b"\x00\x01")
    assert all(fmt in info.value.fix for fmt in FORMATS)
    with pytest.raises(FeedError, match="unknown feed kind"):
        detect_format("x.csv", b"id,title\n", "orders")


def test_parse_feed_checks_its_arguments_eagerly() -> None:
    assert KINDS == ("products", "reviews", "policies")
    with pytest.raises(FeedError, match="unknown feed format"):
        parse_feed(io.BytesIO(b""), "xlsx")
    with pytest.raises(FeedError, match="hold products, not reviews"):
        parse_feed(io.BytesIO(b""), "shopify", kind="reviews")
    with pytest.raises(FeedError, match="mapping applies to csv and tsv"):
        parse_feed(io.BytesIO(b""), "json", mapping={"id": "sku"})


# -- streaming ----------------------------------------------------------------


def _write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("id,title,description,price,stock\n")
        for i in range(count):
            out.write(f'p{i},Product {i},"A fine, plain product.",{i % 500}.99,{i % 7}\n')


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "google-xml"])
def test_large_feeds_stream(tmp_path: Path, fmt: str) -> None:
    count = 20_000
    path = tmp_path / f"big.{fmt}"
    if fmt == "csv":
        _write_csv(path, count)
    else:
        items = [{"id": f"p{i}", "title": f"Product {i}", "price": f"{i % 500}.99"} for i in range(count)]
        if fmt == "jsonl":
            path.write_text("".join(json.dumps(item) + "\n" for item in items))
        elif fmt == "json":
            path.write_text(json.dumps({"products": items}, indent=1))
        else:
            body = "".join(
                f"<item><g:id>{i['id']}</g:id><g:title>{i['title']}</g:title>"
                f"<g:price>{i['price']} USD</g:price></item>\n"
                for i in items
            )
            path.write_text(f'<rss xmlns:g="http://base.google.com/ns/1.0"><channel>\n{body}</channel></rss>')
    size = path.stat().st_size
    with path.open("rb") as stream:
        rows = parse_feed(stream, fmt)
        first = next(rows)
        # The first record arrives after reading a small part of the file: the parser streams.
        assert first.record is not None and stream.tell() < size / 4
        total = 1 + sum(1 for row in rows if row.record is not None)
    assert total == count


def test_markup_in_titles_and_reviews_is_kept_as_text_only() -> None:
    products = (
        b'[{"id": "a", "title": "A <b>bold</b> jacket", "price": "1"},'
        b' {"id": "b", "title": "<img src=x onerror=alert(1)>", "price": "1"},'
        b' {"id": "c", "title": "Size 5 < 6 & co", "price": "1"}]'
    )
    rows = parse(products, "json")
    assert records(rows)["a"].title == "A bold jacket"
    assert records(rows)["c"].title == "Size 5 < 6 & co"  # text that merely looks odd is left alone
    problem = only_error(rows, 2)
    assert problem.field == "title" and "only HTML markup" in problem.message
    reviews = b'{"id": "r1", "product_id": "a", "rating": 5, "body": "Great <script>alert(1)</script>fit"}\n'
    [review] = records(parse(reviews, "jsonl", kind="reviews")).values()
    assert "<script>" not in review.body and review.body.startswith("Great")
