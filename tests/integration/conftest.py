"""pytest fixtures for the integration tests (tests/integration/test_*.py).

- dev: a fresh `eota device` (devicelib.Device) made from the test's
  marker, @pytest.mark.device(body, **kw), with Device's arguments. For the
  test to pass, the device must then stop cleanly (exit 0), leave no .part
  or .tmp file and no sanitizer report in its output; whatever the outcome,
  it is then removed.
- web_dev: the same with its web server on a free port (weblib.WebDevice).
  The web test files make `dev` mean `web_dev`.

Every test_* function of a test_*.py file runs (pytest's own collection);
temporary directories come from pytest's `tmp_path`.
"""

import re

import pytest

from devicelib import Device
from weblib import WebDevice

SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "device(body, **kw): the config (and devicelib.Device arguments) of the dev fixture")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A test that took a device passes only if, after it, its device stops
    cleanly: these checks are part of the test (a failure is the test's)."""
    outcome = yield
    dev = getattr(item, "eota_device", None)
    if dev is not None and outcome.excinfo is None:
        expect_clean_stop(dev)


def expect_clean_stop(dev):
    """The strict end of every `dev` test: exit 0 on SIGTERM, no left-over
    files, no sanitizer report."""
    dev.stop()
    assert not dev.parts(), "left-over files: %r" % dev.parts()
    log = dev.log()
    assert not SANITIZER_REPORT.search(log), "a sanitizer report in the device's output:\n" + log[-3000:]


def device_from_marker(request, device_class):
    marker = request.node.get_closest_marker("device")
    if marker is None:
        pytest.fail("%s takes a device: give it @pytest.mark.device(body, ...)" % request.node.name,
                    pytrace=False)
    dev = device_class(*marker.args, **marker.kwargs)
    request.node.eota_device = dev
    try:
        yield dev
    finally:
        dev.cleanup()


@pytest.fixture
def dev(request):
    yield from device_from_marker(request, Device)


@pytest.fixture
def web_dev(request):
    yield from device_from_marker(request, WebDevice)
