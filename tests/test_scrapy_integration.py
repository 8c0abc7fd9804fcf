"""bpdetect.integrations.scrapy: the item pipeline and the spider helper, unit by unit and in a real local crawl."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

scrapy = pytest.importorskip("scrapy")

from scrapy.exceptions import DropItem  # noqa: E402
from scrapy.http import HtmlResponse, Response  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

import bpdetect  # noqa: E402
from bpdetect.extract import DEFAULT_MODELS, Detector  # noqa: E402
from bpdetect.integrations import scrapy as bs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "tests" / "fixtures" / "scrapy_site"
SAMPLE = ROOT / "datasets" / "sample" / "pages"
SHIPPED_HTML_MODEL = ROOT / "bpdetect" / "models" / DEFAULT_MODELS["html"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))

# path -> (body, Content-Type header); every page declares its charset in the HTTP header.
ROUTES: dict[str, tuple[bytes, str]] = {
    "/index.html": ((SITE / "index.html").read_bytes(), "text/html; charset=utf-8"),
    "/news-harbour-footbridge.html": (
        (SAMPLE / "news-harbour-footbridge.html").read_bytes(),
        "text/html; charset=utf-8",
    ),
    "/blog-road-bike-restoration.html": (
        (SAMPLE / "blog-road-bike-restoration.html").read_bytes(),
        "text/html; charset=utf-8",
    ),
    # ISO-8859-1 with no <meta charset>: only the header says how to read it.
    "/cafe-reopens.html": ((SITE / "cafe-reopens.html").read_bytes(), "text/html; charset=iso-8859-1"),
    "/empty.html": (b"", "text/html; charset=utf-8"),
    "/broken.html": ((SITE / "broken.html").read_bytes(), "text/html; charset=utf-8"),
    "/logo.png": (PNG, "image/png"),
}
PAGES = [p for p in ROUTES if p != "/index.html"]
HTML_PAGES = [p for p in PAGES if p != "/logo.png"]


def _charset(path: str) -> str:
    return ROUTES[path][1].split("charset=")[1]


# -- a real crawl ----------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        route = ROUTES.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body, ctype = route
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def site_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def crawl(site_url, tmp_path_factory):
    """Run tests/fixtures/scrapy_site/crawl.py (three crawlers in one process) and read back its outputs."""
    out = tmp_path_factory.mktemp("crawl")
    custom = out / "custom.skops"  # a model file of its own: loaded through BPDETECT_MODEL, not as the default
    shutil.copyfile(SHIPPED_HTML_MODEL, custom)
    shutil.copyfile(SHIPPED_HTML_MODEL.with_suffix(".json"), custom.with_suffix(".json"))
    proc = subprocess.run(
        [sys.executable, str(SITE / "crawl.py"), site_url, str(out), str(custom)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_clean_env(), "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    items = {}
    for name in ("site", "custom_item", "custom_dataclass"):
        lines = (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        items[name] = {_path(json.loads(line)["url"]): json.loads(line) for line in lines}
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return {"items": items, "result": result, "log": proc.stderr, "custom": str(custom.resolve())}


def _clean_env() -> dict[str, str]:
    import os

    # A user's SCRAPY_SETTINGS_MODULE or proxy variables must not leak into the crawl.
    drop = {"SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_crawl_finishes_cleanly_and_visits_every_page(crawl):
    for name, stats in crawl["result"]["stats"].items():
        assert stats["finish_reason"] == "finished", name
        assert stats.get("log_count/ERROR", 0) == 0, crawl["log"][-3000:]
        assert stats["downloader/response_count"] == len(ROUTES), name
    assert sorted(crawl["items"]["site"]) == sorted(PAGES)
    # DROP_ON_ERROR: the image (no HTML to extract) is dropped by the custom crawlers, every HTML page is kept.
    for name in ("custom_item", "custom_dataclass"):
        assert sorted(crawl["items"][name]) == sorted(HTML_PAGES), name
        assert crawl["result"]["stats"][name]["bpdetect/dropped"] == 1
        assert crawl["result"]["stats"][name]["bpdetect/errors"] == 1


def test_crawled_text_equals_extract_text_on_the_same_bytes(crawl):
    for path in HTML_PAGES:
        body, charset = ROUTES[path][0], _charset(path)
        expected = bpdetect.extract_text(body, input="html", encoding=charset)
        site = crawl["items"]["site"][path]
        assert site["text"] == expected, path
        assert site["helper_text"] == expected, path  # extract_response in the spider: same bytes, same encoding
        assert "html" not in site and "bpdetect_error" not in site
        precise = bpdetect.extract_text(body, input="html", encoding=charset, threshold="precision")
        for name in ("custom_item", "custom_dataclass"):
            item = crawl["items"][name][path]
            assert item["content"] == precise == item["helper_text"], (name, path)
            assert not item.get("html") and item.get("bpdetect_error") is None
            assert 0.0 <= item["bpdetect_score"] <= 1.0


def test_header_charset_is_used_for_the_non_utf8_page(crawl):
    item = crawl["items"]["site"]["/cafe-reopens.html"]
    assert item["encoding"] in ("cp1252", "iso-8859-1")  # Scrapy reads the latin-1 label as its superset
    assert item["title"] == "Café Lüneburg reopens on the market square | Fenwick Valley Gazette"
    text = item["text"]
    # Key sentences kept, with the accents the header's charset gives (a guess without it reads "crčme brűlée").
    assert "the queue for its famous crème brûlée reached the fountain before nine o'clock" in text
    assert "The owners, Jürgen and Inès Müller, bought the listed building in 2022" in text
    assert "piano evenings in the upstairs room from September" in text
    for clutter in ("Contact us", "Related stories", "Bakery on Mill Lane", "Privacy policy", "All rights reserved"):
        assert clutter not in text


def test_article_text_keeps_the_story_and_not_the_navigation(crawl):
    news = crawl["items"]["site"]["/news-harbour-footbridge.html"]["text"]
    assert "ending two months of uncertainty over the future of one of the town's best-known landmarks" in news
    assert "Contractors are expected to be on site from September" in news
    for clutter in ("Obituaries", "Cookie policy", "Sign me up", "Registered in England and Wales", "Trending"):
        assert clutter not in news
    blog = crawl["items"]["site"]["/blog-road-bike-restoration.html"]["text"]
    assert "a saddle that had been chewed by something with very small teeth" in blog
    assert "Like this:" not in blog and "Reviews" not in blog.split()


def test_empty_broken_and_binary_pages_do_not_stop_the_crawl(crawl):
    site = crawl["items"]["site"]
    assert site["/empty.html"]["text"] == "" and "bpdetect_error" not in site["/empty.html"]
    broken = site["/broken.html"]
    assert broken["text"] == bpdetect.extract_text(ROUTES["/broken.html"][0], input="html", encoding="utf-8")
    assert "html" not in broken
    image = site["/logo.png"]
    assert image["text"] == ""
    assert "no page to extract from" in image["bpdetect_error"]
    stats = crawl["result"]["stats"]["site"]
    assert stats["bpdetect/errors"] == 1
    assert stats["bpdetect/items"] == len(HTML_PAGES)
    assert stats["bpdetect/empty"] >= 1  # the empty page (and the broken one when nothing survives)
    assert crawl["items"]["custom_item"]["/empty.html"]["bpdetect_score"] == 0.0


def test_each_model_is_loaded_once_per_process(crawl):
    result = crawl["result"]
    # Three crawlers, two of them on the custom model, and extract_response in every spider callback: two loads.
    assert sorted(result["loads"]) == sorted([str(SHIPPED_HTML_MODEL.resolve()), crawl["custom"]])
    assert result["model_loads"] == 2
    loads = {name: s["bpdetect/model_loads"] for name, s in result["stats"].items()}
    assert loads["site"] == 1
    assert loads["custom_item"] + loads["custom_dataclass"] == 1


# -- the pipeline without a crawl ------------------------------------------------------------------------------------


def _pipeline(**settings) -> bs.BpdetectPipeline:
    crawler = get_crawler(settings_dict=settings)
    pipe = bs.BpdetectPipeline.from_crawler(crawler)
    pipe.open_spider()
    return pipe


NEWS = (SAMPLE / "news-harbour-footbridge.html").read_bytes()


def test_pipeline_fills_dict_items_and_keeps_html_when_asked():
    pipe = _pipeline(BPDETECT_KEEP_HTML="true", BPDETECT_SCORE_FIELD="score")
    item = pipe.process_item({"url": "https://example.org/a", "html": NEWS})
    assert item["text"] == bpdetect.extract_text(NEWS, input="html")
    assert item["title"].startswith("Council approves £2.4m repair plan")
    assert item["html"] is NEWS
    assert 0.5 < item["score"] <= 1.0
    assert pipe.stats.get_value("bpdetect/items") == 1


def test_pipeline_keeps_a_title_the_spider_set_and_reads_str_pages():
    pipe = _pipeline()
    item = pipe.process_item({"html": NEWS.decode("utf-8"), "title": "Mine"})
    assert item["title"] == "Mine"
    assert "Calder Bay's harbour footbridge will be repaired rather than replaced" in item["text"]
    assert "html" not in item


def test_pipeline_works_with_scrapy_items_and_dataclasses():
    class Page(scrapy.Item):
        html = scrapy.Field()
        body_text = scrapy.Field()
        title = scrapy.Field()

    @dataclass
    class Record:
        html: bytes | None
        body_text: str = ""
        title: str = ""

    pipe = _pipeline(BPDETECT_TEXT_FIELD="body_text", BPDETECT_ERROR_FIELD="")
    expected = bpdetect.extract_text(NEWS, input="html")
    page = pipe.process_item(Page(html=NEWS))
    assert page["body_text"] == expected and "html" not in page
    record = pipe.process_item(Record(html=NEWS))
    assert record.body_text == expected and record.html is None
    # A page that fails on an item class with no error field: the text is emptied, nothing else is touched.
    failed = pipe.process_item(Record(html=12345))
    assert failed.body_text == "" and failed.html is None


def test_pipeline_reports_bad_pages_on_the_item_or_drops_them():
    pipe = _pipeline()
    item = pipe.process_item({"url": "u", "html": 3.5})
    assert item["text"] == "" and "expected the page as bytes or str" in item["bpdetect_error"]
    dropper = _pipeline(BPDETECT_DROP_ON_ERROR=True)
    with pytest.raises(DropItem, match="bpdetect could not process u"):
        dropper.process_item({"url": "u", "html": None})
    assert dropper.stats.get_value("bpdetect/dropped") == 1
    empty = _pipeline(BPDETECT_DROP_EMPTY="1")
    with pytest.raises(DropItem, match="no main content"):
        empty.process_item({"html": b""})


def test_pipeline_passes_other_items_through():
    pipe = _pipeline()
    other = {"sku": "A-1", "price": 3}
    assert pipe.process_item(other) == {"sku": "A-1", "price": 3}
    assert pipe.stats.get_value("bpdetect/skipped") == 1


def test_pipeline_uses_the_item_encoding_for_bytes():
    cafe = ROUTES["/cafe-reopens.html"][0]
    pipe = _pipeline()
    with_header = pipe.process_item({"html": cafe, "encoding": "iso-8859-1"})["text"]
    assert "crème brûlée" in with_header
    assert with_header == bpdetect.extract_text(cafe, input="html", encoding="iso-8859-1")


def test_undeclared_item_field_is_a_clear_error():
    class Page(scrapy.Item):
        html = scrapy.Field()

    with pytest.raises(ValueError, match=r"has no field 'text'.*BPDETECT_TEXT_FIELD"):
        _pipeline().process_item(Page(html=NEWS))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("precision", "precision"), (" Recall ", "recall"), ("0.7", 0.7), (0, 0.0), (1, 1.0)],
)
def test_parse_threshold(value, expected):
    assert bs.parse_threshold(value) == expected


@pytest.mark.parametrize("value", ["strict", "1.5", -0.1, True, [0.5]])
def test_bad_threshold_is_refused(value):
    with pytest.raises(ValueError, match="BPDETECT_THRESHOLD"):
        bs.PipelineOptions(threshold=value)


def test_bad_settings_are_refused_when_the_pipeline_is_built():
    for settings, message in [
        ({"BPDETECT_THRESHOLD": "strict"}, "BPDETECT_THRESHOLD"),
        ({"BPDETECT_KEEP_HTML": "maybe"}, "BPDETECT_KEEP_HTML"),
        ({"BPDETECT_INPUT": "pdf"}, "BPDETECT_INPUT"),
        ({"BPDETECT_TEXT_FIELD": ""}, "BPDETECT_TEXT_FIELD"),
    ]:
        with pytest.raises(ValueError, match=message):
            bs.BpdetectPipeline.from_crawler(get_crawler(settings_dict=settings))


def test_a_missing_model_fails_when_the_spider_opens(tmp_path):
    pipe = bs.BpdetectPipeline.from_crawler(get_crawler(settings_dict={"BPDETECT_MODEL": str(tmp_path / "no.skops")}))
    with pytest.raises(bpdetect.ModelError, match="not found"):
        pipe.open_spider()


def test_markdown_field():
    try:
        import bpdetect.formats  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="BPDETECT_MARKDOWN_FIELD"):
            bs.BpdetectPipeline(bs.PipelineOptions(markdown_field="md"))
        return
    item = _pipeline(BPDETECT_MARKDOWN_FIELD="md").process_item({"html": NEWS})
    assert "Work to start in September" in item["md"]


def test_detector_for_shares_the_default_detector():
    # One Detector per custom model file is checked in the crawl (two crawlers on one BPDETECT_MODEL, one load).
    assert bs.detector_for() is Detector.default()


# -- extract_response ------------------------------------------------------------------------------------------------


def test_extract_response_uses_body_and_header_encoding():
    cafe = ROUTES["/cafe-reopens.html"][0]
    response = HtmlResponse(
        "http://127.0.0.1/cafe", body=cafe, headers={"Content-Type": "text/html; charset=iso-8859-1"}
    )
    ext = bs.extract_response(response)
    assert ext.text == bpdetect.extract_text(cafe, input="html", encoding="iso-8859-1")
    assert "Jürgen and Inès Müller" in ext.text
    assert ext.title.startswith("Café Lüneburg")
    strict = bs.extract_response(response, threshold="precision")
    assert strict.threshold > ext.threshold


def test_extract_response_on_binary_and_bad_input():
    assert bs.extract_response(Response("http://127.0.0.1/x.bin", body=b"")).text == ""
    with pytest.raises(TypeError, match="needs a scrapy Response"):
        bs.extract_response("<p>not a response</p>")


def test_importing_bpdetect_does_not_import_scrapy():
    probe = "print('scrapy' in sys.modules, 'itemadapter' in sys.modules)"
    code = f"import sys, bpdetect, bpdetect.integrations; {probe}; import bpdetect.integrations.scrapy; {probe}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # Not even the integration module imports Scrapy until a pipeline or helper runs.
    assert out.split() == ["False", "False", "False", "False"]
