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
    # OSS answers an error code ("EC") with every error: the documented one where a page names
    # it (err.ec, e.g. the inventory errors 0020-000000xx), else a stable per-code value
    ec = getattr(err, "ec", None)
    return ec or f"{err.status:04d}-{sum(map(ord, err.code)):08d}"


# XML 1.0 forbids these even as &#N; references, yet OSS takes them in object keys
# (oss2 writes a key's U+000C raw; other clients send &#12;): carried through the parser as
# private-use markers and put back by control_chars()
_CONTROL_IN_BODY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});")
_MARKER = re.compile("\ue000([0-9a-f]{2})\ue001")


def _mark_control(match: re.Match) -> bytes:
    ref = match.group(1)
    if ref is None:
        code = match.group(0)[0]
    else:
        code = int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)
        if code > 0x1F or code in (0x09, 0x0A, 0x0D):
            return match.group(0)  # a reference XML allows: the parser decodes it
    return f"\ue000{code:02x}\ue001".encode()


def control_chars(value: str) -> str:
    """Text parsed with parse(..., control_chars=True), with its control characters back."""
    return _MARKER.sub(lambda m: chr(int(m.group(1), 16)), value) if "\ue000" in value else value


def parse(body: bytes, root_tag: str, control_chars: bool = False) -> ElementTree.Element:
    """Parse a request XML body; any malformed or unexpected body is 400 MalformedXML."""
    if len(body) > MAX_XML_BODY:
        raise errors.MalformedXML("The XML body is too large.")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise errors.MalformedXML("DTDs and entities are not accepted.")
    if control_chars:
        body = _CONTROL_IN_BODY.sub(_mark_control, body)
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
