"""Read a posted form: small, UTF-8, fields as lists of text, files only where allowed.

Shared by the respondent app and the console, so neither imports the other for it.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request

__all__ = ["MAX_BODY", "read_form"]

#: The largest form body taken, in bytes (a survey page's answers are far smaller).
MAX_BODY = 64 * 1024


async def read_form(
    request: Request, *, max_body: int = MAX_BODY, file_fields: tuple[str, ...] = ()
) -> dict[str, list[str]] | None:
    """Every field of a form as lists of text; None for anything that is not a small form.

    Files are refused, except in ``file_fields`` (a study file uploaded to the console):
    their UTF-8 text is the field's value, their name is kept as ``<field>:filename``.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    request._body = body  # the form parser reads the body we already took
    try:
        form = await request.form(
            max_files=len(file_fields), max_fields=200, max_part_size=max_body
        )
    except Exception:  # any parser error: the input is not a form we take
        return None
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name not in file_fields:
                return None
            text = (await value.read()).decode("utf-8")  # the whole body decoded above
            fields.setdefault(f"{name}:filename", []).append(value.filename or "")
            value = text
        if len(name) > 100 or "\x00" in value:
            return None
        fields.setdefault(name, []).append(value)
    return fields
