"""Fuzzing every parser of untrusted input with hypothesis (docs/api.md §A.7).

Whatever the input, each parser either returns a value or raises the contract's
4xx `HttpError`; nothing else may escape (it would be a 500 with a stack trace).
"""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug import Request
from werkzeug.test import EnvironBuilder

from phasma.frontend.security import safe_next
from phasma.http.bodies import decode_json, read_json_object
from phasma.http.errors import HttpError
from phasma.pagination import decode_cursor, decode_offset, decode_search_offsets
from phasma.uploads.multipart import read_image_part

FUZZ = settings(max_examples=300, deadline=None)

# Bytes that JSON's grammar cares about, so generated bodies reach deep into the parser.
JSON_PIECES = st.sampled_from(
    [
        "[", "]", "{", "}", '"', ":", ",", "\\", "\\u", "d800", "dc00", "0", "1", "-",
        "e", "E", ".", "+", "9" * 25, "1e999", "true", "null", "NaN", "Infinity", " ",
        "\x00", "\x1f", "é", "\ud800", "[" * 70, "{\"a\":" * 70,
    ]
)  # fmt: skip
JSON_LIKE = st.lists(JSON_PIECES, max_size=60).map("".join)


def raw_bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2048),
        JSON_LIKE.map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
            lambda children: st.lists(children) | st.dictionaries(st.text(), children),
            max_leaves=30,
        ).map(lambda value: json.dumps(value).encode()),
    )


def json_request(body: bytes, content_type: str = "application/json") -> Request:
    return Request(
        EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()
    )


def assert_client_error(error: HttpError) -> None:
    assert 400 <= error.status < 500, error
    assert error.message


# -- JSON bodies ----------------------------------------------------------------------


@FUZZ
@given(raw_bodies())
@example(b"[" * 90_000)
@example(b'{"a":' * 20_000)
@example(b'"\\ud800"')
@example(b"1e999")
@example(b"-" + b"9" * 5000)
def test_the_json_body_parser_answers_only_4xx(body: bytes) -> None:
    try:
        value = read_json_object(json_request(body))
    except HttpError as error:
        assert_client_error(error)
        return
    assert isinstance(value, dict)
    # What it accepts, PostgreSQL can store and json can write again.
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


@FUZZ
@given(st.integers(min_value=0, max_value=200), st.sampled_from(["[", '{"k":']))
def test_the_depth_limit_is_exact(levels: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * levels + "0" + closer * levels
    if levels <= 64:
        assert decode_json(text.encode()) is not None
    else:
        with pytest.raises(ValueError, match="nested deeper than 64"):
            decode_json(text.encode())


# -- multipart --------------------------------------------------------------------------

BOUNDARY = "fuzz-boundary"
MULTIPART_PIECES = st.sampled_from(
    [
        f"--{BOUNDARY}\r\n", f"--{BOUNDARY}--\r\n", f"\r\n--{BOUNDARY}", "\r\n", "\r\n\r\n",
        'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\n',
        'Content-Disposition: form-data; name="other"\r\n', "Content-Disposition: \xff\r\n",
        "Content-Type: image/jpeg\r\n", "X: " + "y" * 300, "\x00", "abc", "--", "-",
    ]
)  # fmt: skip
MULTIPART_LIKE = st.lists(MULTIPART_PIECES, max_size=40).map(
    lambda pieces: "".join(pieces).encode("latin-1")
)


def multipart_request(body: bytes, content_type: str, chunked: bool) -> Request:
    environ = EnvironBuilder(method="POST").get_environ()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_TYPE"] = content_type
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    return Request(environ)


@FUZZ
@given(
    st.one_of(st.binary(max_size=4096), MULTIPART_LIKE),
    st.one_of(
        st.just(f"multipart/form-data; boundary={BOUNDARY}"),
        st.text(max_size=120).map(lambda boundary: f"multipart/form-data; boundary={boundary}"),
        st.text(max_size=80),
    ),
    st.booleans(),
)
def test_the_multipart_reader_answers_only_4xx(
    body: bytes, content_type: str, chunked: bool
) -> None:
    try:
        image = read_image_part(multipart_request(body, content_type, chunked))
    except HttpError as error:
        assert_client_error(error)
        return
    assert isinstance(image, bytes)


# -- cursors ----------------------------------------------------------------------------


def base64_of_json_like() -> st.SearchStrategy[str]:
    documents = st.one_of(
        JSON_LIKE,
        st.fixed_dictionaries(
            {"created": st.text(max_size=40), "id": st.integers() | st.floats() | st.text()}
        ).map(json.dumps),
    )
    return documents.map(
        lambda text: (
            base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).rstrip(b"=").decode()
        )
    )


@FUZZ
@given(st.one_of(st.text(max_size=600), base64_of_json_like()))
@example(base64.urlsafe_b64encode(b'{"created": "2024-01-01T00:00:00+99:00", "id": 1}').decode())
@example(base64.urlsafe_b64encode(b'{"created": "9999-12-31T23:59:59-23:59", "id": 1}').decode())
def test_the_cursor_decoders_answer_only_400(raw: str) -> None:
    for decode in (decode_cursor, decode_offset, decode_search_offsets):
        try:
            decode(raw)
        except HttpError as error:
            assert error.status == 400


# -- safe_next --------------------------------------------------------------------------


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=200), st.text(alphabet="/\\:@.%?#\t\n ").map(str)))
@example("/\x7f")
@example("/[")
@example("/://evil.test")
def test_safe_next_never_raises_and_never_leaves_the_site(value: str | None) -> None:
    result = safe_next(value, "/home")
    assert result in (value, "/home")
    parts = urlsplit(result)
    assert result.startswith("/") and not result.startswith("//")
    assert not parts.scheme and not parts.netloc and "\\" not in result
