"""The HTML report in a real browser: headless Chromium loads it from disk, every image
decodes and is not blank, and a screenshot is saved under figures/.

Chromium is found as ``chromium``, ``chromium-browser``, ``google-chrome`` or
``$CHROMIUM``; ``make test-slow`` installs the Debian package where it can. Without
a browser the test skips and says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_report import chinchilla_case, curve_case, written_report  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow  # a browser start per test; runs in 'make test-slow'

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "figures" / "report_screenshot.png"

# Runs after the load event: for every <img>, its natural size and how many distinct
# colours it has once drawn on a canvas (a blank image has one); the result goes into
# the DOM, which --dump-dom prints.
CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var out = [];
  Array.prototype.forEach.call(document.images, function (img) {
    var r = {alt: img.alt, w: img.naturalWidth, h: img.naturalHeight, complete: img.complete, colours: 0};
    try {
      var c = document.createElement("canvas");
      c.width = Math.max(1, Math.min(img.naturalWidth, 400));
      c.height = Math.max(1, Math.min(img.naturalHeight, 300));
      var g = c.getContext("2d");
      g.drawImage(img, 0, 0, c.width, c.height);
      var d = g.getImageData(0, 0, c.width, c.height).data, seen = {};
      for (var i = 0; i < d.length; i += 16) { seen[d[i] + "," + d[i + 1] + "," + d[i + 2]] = 1; }
      r.colours = Object.keys(seen).length;
    } catch (e) { r.error = String(e); }
    out.push(r);
  });
  var pre = document.createElement("pre");
  pre.textContent = "SCALING-CHECK " + JSON.stringify(out) + " SCALING-END";
  document.body.appendChild(pre);
});
</script>
"""


def chromium_binary() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={profile}"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium binary (install the Debian package 'chromium', or set $CHROMIUM); "
                    "the browser check of the HTML report did not run")
    return binary


def test_every_image_decodes_and_is_not_blank_in_chromium(browser, written_report, tmp_path):
    rep, paths, _ = written_report
    html = paths["html"].read_text()
    page = tmp_path / "check.html"  # a copy: the report itself is not modified
    page.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"))
    proc = chromium(browser, tmp_path / "profile", "--virtual-time-budget=15000", "--dump-dom", page.as_uri())
    m = re.search(r"SCALING-CHECK (\[.*?\]) SCALING-END", proc.stdout, re.S)
    assert m, f"the check script did not report (exit {proc.returncode}): {proc.stderr[-500:]}"
    images = json.loads(m.group(1))
    assert len(images) == len(rep.figures())
    for img in images:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
        assert "error" not in img, img
        assert img["colours"] > 10, f"image looks blank: {img}"


def test_screenshot_of_the_report_is_saved(browser, written_report, tmp_path):
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shot = tmp_path / "shot.png"
    chromium(browser, tmp_path / "profile", "--window-size=1280,1800", "--virtual-time-budget=15000",
             f"--screenshot={shot}", written_report[1]["html"].as_uri())
    assert shot.exists(), "Chromium wrote no screenshot"
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[1] == 1280 and float(img[..., :3].std()) > 0.01
    if os.environ.get("SCALING_UPDATE_SCREENSHOT") != "1":
        return  # a test run must not rewrite a tracked file; 'make figures' sets this to refresh it
    tmp = SCREENSHOT.with_name(SCREENSHOT.name + ".tmp")
    shutil.copyfile(shot, tmp)
    os.replace(tmp, SCREENSHOT)  # atomic: a reader never sees half a PNG
