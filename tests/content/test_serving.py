"""The content app serving stored files: headers, HEAD, ranges, validators, listings, paths."""

from __future__ import annotations

import hashlib
import re
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tests.content.conftest import raw_get

PREFIX = "/pulp/content/"
BIG = bytes(range(256)) * 40  # 10240 bytes
FILES = {
    "data.json": b'{"a": 1}',
    "big.bin": BIG,
    "docs/readme.txt": b"read me\n",
    "docs/deep/note.xml": b"<note/>",
    "site/index.html": b"<html>hello</html>",
    "archive.tar.gz": b"\x1f\x8b tar",
}


@pytest.fixture(scope="module")
def dist(seed):
    ids = seed.repository(FILES)
    seed.distribution("serve/main", repository_id=ids["repository_id"])
    return ids


@pytest.fixture(scope="module")
def http(content_server):
    with httpx.Client(base_url=content_server.base_url, timeout=30) as client:  # anonymous on purpose
        yield client


def test_file_served_with_headers(dist, http):
    response = http.get(PREFIX + "serve/main/big.bin")
    assert response.status_code == 200
    assert response.content == BIG
    sha = hashlib.sha256(BIG).hexdigest()
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(len(BIG))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{sha}"'
    assert response.headers["x-pulp-artifact-size"] == str(len(BIG))
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert parsedate_to_datetime(response.headers["last-modified"])
    assert http.get(PREFIX + "serve/main/data.json").headers["content-type"] == "application/json"
    assert http.get(PREFIX + "serve/main/archive.tar.gz").headers["content-type"] == "application/gzip"
    assert http.get(PREFIX + "serve/main/docs/readme.txt").content == b"read me\n"


def test_head_has_headers_and_no_body(dist, http):
    response = http.head(PREFIX + "serve/main/big.bin")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(BIG))
    assert response.headers["etag"] == f'"{hashlib.sha256(BIG).hexdigest()}"'


@pytest.mark.parametrize(("header", "start", "end"), [
    ("bytes=10-19", 10, 19), ("bytes=10000-", 10000, 10239), ("bytes=-5", 10235, 10239),
    ("bytes=10200-99999", 10200, 10239),
])
def test_range_206(dist, http, header, start, end):
    response = http.get(PREFIX + "serve/main/big.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == BIG[start:end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(BIG)}"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-1-11", "bytes=abc"])
def test_range_416(dist, http, header):
    response = http.get(PREFIX + "serve/main/big.bin", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BIG)}"
    assert response.headers["etag"] == f'"{hashlib.sha256(BIG).hexdigest()}"'


def test_conditional_get_304(dist, http):
    first = http.get(PREFIX + "serve/main/data.json")
    again = http.get(PREFIX + "serve/main/data.json", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = http.get(PREFIX + "serve/main/data.json", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    other = http.get(PREFIX + "serve/main/data.json", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200 and other.content == FILES["data.json"]


def test_distribution_root_listing(dist, http):
    response = http.get(PREFIX + "serve/main/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text = response.text
    assert text.startswith(f'<html><head><title>Index of {PREFIX}serve/main/</title></head><body bgcolor="white">'
                           f'<h1>Index of {PREFIX}serve/main/</h1><hr><pre><a href="../">../</a>\n')
    assert text.endswith("</pre><hr></body></html>\n")
    names = re.findall(r'<a href="\./([^"]+)">', text)
    assert names == ["archive.tar.gz", "big.bin", "data.json", "docs/", "site/"]
    line = next(line for line in text.splitlines() if ">big.bin</a>" in line)
    assert re.search(r"\s{2,}\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}  10\.2 kB$", line), line
    sub = http.get(PREFIX + "serve/main/docs/")
    assert re.findall(r'<a href="\./([^"]+)">', sub.text) == ["deep/", "readme.txt"]
    assert http.head(PREFIX + "serve/main/").status_code == 200


def test_index_html_served_for_directory(dist, http):
    response = http.get(PREFIX + "serve/main/site/")
    assert response.status_code == 200
    assert response.content == b"<html>hello</html>"
    assert response.headers["content-type"] == "text/html"


def test_missing_slash_redirects(dist, http):
    for path in ("serve/main", "serve/main/docs", "serve/main/docs/deep", "serve"):
        response = http.get(PREFIX + path)
        assert response.status_code == 301, path
        assert response.headers["location"] == PREFIX + path + "/"
    followed = http.get(PREFIX + "serve/main/docs", follow_redirects=True)
    assert followed.history[0].status_code == 301 and followed.status_code == 200


def test_not_found_is_plain_text(dist, http):
    for path in ("serve/main/nothing", "serve/main/docs/nothing/", "nowhere/at/all", "serve/main/data.json/"):
        response = http.get(PREFIX + path)
        assert response.status_code == 404, path
        assert response.text == "404: Not Found"
        assert response.headers["content-type"].startswith("text/plain")


def test_prefix_index_lists_base_path_segments(dist, seed, http):
    seed.distribution("hiddenone", repository_id=dist["repository_id"], hidden=True)
    root = http.get(PREFIX)
    assert root.status_code == 200
    names = re.findall(r'<a href="\./([^"]+)">', root.text)
    assert "serve/" in names and "hiddenone/" not in names
    assert '<a href="../">' not in root.text
    partial = http.get(PREFIX + "serve/")
    assert re.findall(r'<a href="\./([^"]+)">', partial.text) == ["main/"]
    assert http.get(PREFIX[:-1]).status_code == 301


@pytest.mark.parametrize("path", [
    "serve/main/../main/data.json", "serve/main/%2e%2e/main/data.json", "serve/main/docs%2Freadme.txt",
    "serve/main/docs%2freadme.txt", "serve/main//data.json", "serve/main/./data.json", "serve/main/data.json%00",
    "serve/main/%2Fetc%2Fpasswd", "serve%2Fmain/data.json", "serve/main/docs/..%2F..%2F..%2Fetc%2Fpasswd",
    "serve/main/%ff", "serve/main/docs\\..\\data.json",
])
def test_path_tricks_never_escape(dist, content_server, path):
    status, _, body = raw_get(content_server, PREFIX + path)
    assert status == 404, path
    assert body == b"404: Not Found"


def test_absolute_and_parent_paths_never_reach_the_filesystem(dist, content_server):
    for path in ("/pulp/content/../../etc/passwd", "/pulp/content//etc/passwd", "/pulp/content/%2Fetc/passwd"):
        status, _, body = raw_get(content_server, path)
        assert status == 404, path
        assert b"root:" not in body


def test_longest_base_path_wins(seed, http):
    outer = seed.repository({"a.txt": b"outer a", "inner/b.txt": b"outer's inner b"})
    inner = seed.repository({"b.txt": b"inner b"})
    seed.distribution("nest", repository_id=outer["repository_id"])
    seed.distribution("nest/inner", repository_id=inner["repository_id"])
    assert http.get(PREFIX + "nest/a.txt").content == b"outer a"
    assert http.get(PREFIX + "nest/inner/b.txt").content == b"inner b"
    assert http.get(PREFIX + "nest/inner/a.txt").status_code == 404


def test_pinned_version_and_latest(seed, http):
    ids = seed.repository({"v1.txt": b"one"})
    two = seed.repository({"v2.txt": b"two"})
    seed.add_version(ids["repository_id"], add=two["content_ids"], remove=ids["content_ids"])
    seed.distribution("pin/latest", repository_id=ids["repository_id"])
    seed.distribution("pin/one", repository_version_id=ids["version_id"])
    assert http.get(PREFIX + "pin/latest/v2.txt").content == b"two"
    assert http.get(PREFIX + "pin/latest/v1.txt").status_code == 404
    assert http.get(PREFIX + "pin/one/v1.txt").content == b"one"
    assert http.get(PREFIX + "pin/one/v2.txt").status_code == 404


def test_distribution_without_target_is_404(seed, http):
    seed.distribution("empty/dist")
    assert http.get(PREFIX + "empty/dist/").status_code == 404
    assert http.get(PREFIX + "empty/dist/x").text == "404: Not Found"


def test_if_range_only_honours_a_current_validator(dist, http):
    etag = http.head(PREFIX + "serve/main/big.bin").headers["etag"]
    fresh = http.get(PREFIX + "serve/main/big.bin", headers={"Range": "bytes=0-3", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.content == BIG[:4]
    stale = http.get(PREFIX + "serve/main/big.bin", headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == BIG


def test_only_get_and_head(dist, http):
    response = http.post(PREFIX + "serve/main/data.json", content=b"x")
    assert response.status_code == 405
