"""What may be uploaded and how a stored file is judged: magic numbers, limits, the order of refusals."""

from __future__ import annotations

import pytest

from shared.content.uploads.model import MAX_BYTES, kind_of, rejection, sniff


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.4\n", "application/pdf"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # a RIFF that is not WEBP
        (b"\x89PNG", None),  # half a PNG signature
        (b"GIF88a", None),
        (b"%PDF", None),
        (b"<svg xmlns=", None),
        (b"", None),
    ],
)
def test_the_first_bytes_name_the_type(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


def test_limits_are_10_mb_for_images_and_50_mb_for_pdfs() -> None:
    assert MAX_BYTES == {"image": 10 * 1024 * 1024, "pdf": 50 * 1024 * 1024}
    assert kind_of("application/pdf") == "pdf"
    assert {kind_of("image/jpeg"), kind_of("image/png"), kind_of("image/webp"), kind_of("image/gif")} == {
        "image"
    }


def test_a_stored_file_is_accepted_only_as_declared() -> None:
    assert rejection("image/png", 100, 100, "image/png") is None
    assert rejection("image/png", 100, 100, "image/jpeg") == "upload_type_mismatch"
    assert rejection("image/png", 100, 100, None) == "upload_type_mismatch"
    assert rejection("image/png", 100, 101, "image/png") == "upload_size_mismatch"
    assert rejection("application/pdf", 10, MAX_BYTES["pdf"], "application/pdf") == "upload_size_mismatch"


def test_an_oversize_file_is_refused_as_too_large_before_anything_else() -> None:
    too_big = MAX_BYTES["image"] + 1
    assert rejection("image/png", 100, too_big, None) == "upload_too_large"
    assert rejection("image/gif", 100, MAX_BYTES["image"], "image/gif") == "upload_size_mismatch"
