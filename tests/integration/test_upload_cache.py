"""Integration tests of the cache folder of `eota upload`
(src/app/upload/cache_dir.c): both of its caches, the MD5 of images and the
last good address of each name, land in $EOTA_CACHE_DIR and nowhere else;
with EOTA_CACHE_DIR=off neither writes anything; a folder others can write
is refused with a warning and the upload goes on without caches.

The device is reached by the name `localhost` so that the address cache
has a name to remember."""

import os
import re
import subprocess
import time

import pytest

from devicelib import app_image, eota_bin

OTA = "ota:\n  - platform: esphome\n"


def upload(dev, fw, env):
    e = dict(os.environ)
    e.pop("EOTA_PASSWORD", None)
    e.update(env)
    p = subprocess.run([eota_bin(), "upload", fw, "--device", "localhost:%d" % dev.port, "--json"],
                       capture_output=True, text=True, timeout=120, env=e)
    assert p.returncode == 0, "rc %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    assert '"result":"ok"' in p.stdout.replace(" ", ""), p.stdout
    return p


def old_firmware(tmp_path):
    """An image file old enough for the MD5 cache (it skips a file changed
    in the last two seconds)."""
    fw = tmp_path / "fw.bin"
    fw.write_bytes(app_image("v1", 50000))
    time.sleep(2.5)
    return str(fw)


def homes(tmp_path):
    """HOME and XDG_CACHE_HOME in tmp_path, so that nothing of the test
    lands in the real ones (and we can see nothing lands in these)."""
    return {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}


def files_under(path):
    return sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs)


@pytest.mark.device(OTA)
def test_both_caches_in_eota_cache_dir(dev, tmp_path):
    fw = old_firmware(tmp_path)
    cache = tmp_path / "my" / "cache"
    env = dict(homes(tmp_path), EOTA_CACHE_DIR=str(cache))
    upload(dev, fw, env)
    names = files_under(cache)
    assert "addresses" in names, names
    assert any(re.fullmatch(r"md5-[0-9a-f]+-[0-9a-f]+", n) for n in names), names
    assert len(names) == 2, names  # no temporary file left
    assert re.fullmatch(r"localhost (127\.0\.0\.1|::1)\n", (cache / "addresses").read_text())
    assert os.stat(cache).st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "my").st_mode & 0o777 == 0o700
    assert not (tmp_path / "home").exists() and not (tmp_path / "xdg").exists()
    dev.wait_log("Update complete")


@pytest.mark.device(OTA)
def test_off_writes_nothing(dev, tmp_path):
    fw = old_firmware(tmp_path)
    env = dict(homes(tmp_path), EOTA_CACHE_DIR="off")
    before = files_under(tmp_path)
    upload(dev, fw, env)
    assert files_under(tmp_path) == before
    assert not (tmp_path / "home").exists() and not (tmp_path / "xdg").exists()
    assert not (tmp_path / "off").exists()
    dev.wait_log("Update complete")


@pytest.mark.device(OTA)
def test_a_folder_others_can_write_is_refused(dev, tmp_path):
    fw = old_firmware(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    p = upload(dev, fw, dict(homes(tmp_path), EOTA_CACHE_DIR=str(shared)))
    assert p.stderr.count("eota upload: warning: the cache folder %s can be written by every user (mode 1777); "
                          "the caches are off for this run" % shared) == 1, p.stderr
    assert files_under(shared) == []
    assert not (tmp_path / "home").exists() and not (tmp_path / "xdg").exists()
    dev.wait_log("Update complete")


@pytest.mark.device(OTA)
def test_xdg_cache_home_without_eota_cache_dir(dev, tmp_path):
    fw = old_firmware(tmp_path)
    upload(dev, fw, dict(homes(tmp_path), EOTA_CACHE_DIR=""))
    names = files_under(tmp_path / "xdg" / "eota")
    assert "addresses" in names and len(names) == 2, names
    assert not (tmp_path / "home").exists()
    dev.wait_log("Update complete")
