"""OSS XML on the wire: small renderers (string building, no namespaces, as oss2 parses) and a
guarded parser for request bodies."""

from __future__ import annotations

import re
import time
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from . import errors

XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_XML_BODY = 4 << 20  # DeleteMultipleObjects: 1,000 keys of up to 1,023 bytes, escaped


def iso8601(ts: float) -> str:
    """2024-01-02T03:04:05.000Z: OSS always writes .000 (and oss2 accepts nothing else)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def http_date(ts: float) -> str:
    """RFC 1123 date (Last-Modified header, x-oss-restore expiry-date)."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ts))


# characters XML 1.0 cannot carry even as references (control characters, surrogates, U+FFFE/F)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_escape(value) -> str:
    """Escape for element text; characters XML cannot carry become '?' (ask encoding-type=url)."""
    return escape(_NOT_XML.sub("?", str(value)))


def text(value) -> str:
    return xml_escape(value)


def key_text(value: str, url_encode: bool) -> str:
    """A key or prefix as OSS writes it: url-encoded when encoding-type=url was asked."""
    return quote(value, safe="/") if url_encode else xml_escape(value)


def element(tag: str, value) -> str:
    return f"<{tag}>{xml_escape(value)}</{tag}>"


def document(root: str, body: str) -> bytes:
    return f"{XML_HEADER}<{root}>{body}</{root}>".encode()


def render_error(err: errors.OssError, request_id: str, host_id: str) -> bytes:
    extras = "".join(element(k, v) for k, v in err.details.items())
    return document(
        "Error",
        element("Code", err.code)
        + element("Message", err.message)
        + element("RequestId", request_id)
        + element("HostId", host_id)
        + extras
        + element("EC", _ec(err)),
    )


def _ec(err: errors.OssError) -> str:
    # OSS answers an error code ("EC") with every error; a stable per-code value is enough here
    return f"{err.status:04d}-{sum(map(ord, err.code)):08d}"


def parse(body: bytes, root_tag: str) -> ElementTree.Element:
    """Parse a request XML body; any malformed or unexpected body is 400 MalformedXML."""
    if len(body) > MAX_XML_BODY:
        raise errors.MalformedXML("The XML body is too large.")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise errors.MalformedXML("DTDs and entities are not accepted.")
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError) as exc:
        raise errors.MalformedXML(f"The XML you provided was not well-formed: {exc}.") from None
    if root.tag != root_tag:
        raise errors.MalformedXML(f"Expected root element <{root_tag}>, got <{root.tag}>.")
    return root


def child_text(node: ElementTree.Element, path: str, default: str | None = None) -> str | None:
    found = node.find(path)
    if found is None:
        return default
    return found.text or ""
