"""Draw and the photo upload say when a drawing is unlike every digit, and explain the confidence."""

import io
import time

from tests.apptest import draw, open_page, texts
from tests.scribbles import scribbles


def png_of(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_draw_and_upload_say_an_h_is_not_a_digit():
    letter = png_of(scribbles("letter H", 1, seed=3)[0])
    at = draw(open_page("draw"), letter)
    deadline = time.monotonic() + 240  # the first drawing starts the model's fit, in the background
    while "doesn't look like a digit" not in texts(at.warning) and time.monotonic() < deadline:
        time.sleep(3)
        at.run()
    assert not at.exception, at.exception
    assert "That doesn't look like a digit I know — my best guess is" in texts(at.warning)
    assert any("Why does it still name a digit" in e.label for e in at.expander)
    assert "only knows ten answers" in texts(at.markdown)
    at.file_uploader(key="draw_upload").upload("h.png", letter, "image/png").run()
    assert texts(at.warning).count("doesn't look like a digit") == 2
