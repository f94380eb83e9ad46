"""The operator console in a real browser (Debian's chromium, driven by
Selenium through Debian's chromedriver; nothing downloaded): signing in and
out, a job from the request form through its DNS records to SUCCESS, its
records downloaded, the job deleted; and nothing shown signed out. Every
page is saved as a screenshot under the test's own directory."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as ChromeDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from provisioning.actions import job_calls
from provisioning.api.app import create_app
from provisioning.sandbox.moto_server import free_port
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor
from tests.engine.jobs_helpers import API_KEY, REQUESTS, TEMPLATE, aws
from tests.material import issue

pytestmark = [pytest.mark.engine, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


class Idle(Supervisor):
    """Starts no step: for tests of the pages alone, with jobs that stay queued."""

    def launch(self, job_id: str) -> None:
        return None


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture
def working(service: Service) -> Iterator[str]:
    """The console with its workers: jobs run to the end."""
    with served(create_app(service)) as url:
        yield url


@pytest.fixture
def idle(service: Service) -> Iterator[str]:
    """The console without workers: jobs stay queued."""
    with served(create_app(service, Idle(service), watch=False)) as url:
        yield url


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    made = tmp_path / "downloads"
    made.mkdir()
    return made


@pytest.fixture
def browser(downloads: Path) -> Iterator[WebDriver]:
    """Both binaries given explicitly, so Selenium Manager never looks for
    (or downloads) a browser or driver of its own."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.exists():
            pytest.fail(f"{binary} is missing; run scripts/setup", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(
        service=ChromeDriver(executable_path=str(CHROMEDRIVER)), options=options
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shoot(browser: WebDriver, tmp_path: Path) -> Callable[[str], Path]:
    """Saves the page as it is now, full height, under the test's directory."""
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def taken(name: str) -> Path:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": 1400,
                "height": min(int(height), 4000),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        path = shots / f"{len(list(shots.iterdir())) + 1:02d}-{name}.png"
        try:
            assert browser.save_screenshot(str(path)), path
        finally:
            browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path

    return taken


def wait(browser: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 20) -> Any:
    """Until ``condition`` holds; an element the page re-rendered meanwhile
    (a running job's page does) is looked for again."""
    return WebDriverWait(
        browser, timeout, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
    ).until(condition)


def path_of(browser: WebDriver) -> str:
    return browser.execute_script("return location.pathname")


def stored_key(browser: WebDriver) -> str | None:
    return browser.execute_script("return sessionStorage.getItem('ssl-saas-api-key')")


def sign_in(browser: WebDriver, key: str) -> None:
    field = wait(browser, lambda b: b.find_element(By.ID, "api-key"))
    field.clear()
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]").click()


def visible(browser: WebDriver, css: str) -> list[WebElement]:
    return [e for e in browser.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


def unauthenticated_fetch(browser: WebDriver, path: str) -> int:
    """What the API answers this page's origin without the key."""
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => done(r.status));",
        path,
    )


def test_signed_out_nothing_is_shown_and_a_wrong_key_is_refused(
    idle: str, browser: WebDriver, service: Service, shoot: Callable[[str], Path]
) -> None:
    with httpx.Client(base_url=idle, headers={"x-api-key": API_KEY}) as http:
        job_id = http.post(
            "/ssl_for_saas", content=(REQUESTS / "create-one.json").read_bytes()
        ).json()["body"]

    # The job's page last: signing in goes back to it.
    for page in ("/console/", "/console/certificates", "/console/new", f"/console/jobs/{job_id}"):
        browser.get(idle + page)
        wait(browser, lambda b: path_of(b) == "/console/sign-in")
        assert "yourdomainname" not in browser.page_source
        assert job_id not in browser.page_source
    shoot("sign-in")
    for path in (
        "/ssl_for_saas/list_ssl_jobs",
        f"/ssl_for_saas/get_ssl_job?jobId={job_id}",
        "/ssl_for_saas/openapi.json",
    ):
        assert unauthenticated_fetch(browser, path) == 401

    sign_in(browser, "not-the-key")
    error = wait(browser, lambda b: visible(b, "#sign-in-error"))[0]
    assert error.text == "This key is not accepted."
    assert stored_key(browser) is None

    # Signing in goes back to the page that asked for it.
    sign_in(browser, API_KEY)
    wait(browser, lambda b: path_of(b) == f"/console/jobs/{job_id}")
    badge = wait(browser, lambda b: visible(b, "#job-status .badge"))[0]
    assert badge.text == "QUEUED"
    assert browser.find_element(By.ID, "job-id").text == job_id
    assert stored_key(browser) == API_KEY
    assert API_KEY not in browser.current_url

    browser.find_element(By.ID, "sign-out").click()
    wait(browser, lambda b: path_of(b) == "/console/sign-in")
    assert stored_key(browser) is None
    browser.get(f"{idle}/console/jobs/{job_id}")
    wait(browser, lambda b: path_of(b) == "/console/sign-in")
    assert job_id not in browser.page_source


def test_form_shows_every_error_at_its_field_and_never_a_private_key(
    idle: str, browser: WebDriver, service: Service, tmp_path: Path, shoot: Callable[[str], Path]
) -> None:
    browser.get(f"{idle}/console/sign-in?next=/console/new")
    sign_in(browser, API_KEY)
    wait(browser, lambda b: path_of(b) == "/console/new")

    browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=create]").click()
    browser.find_element(By.ID, "create-add").click()
    first, second = visible(browser, "#create-items fieldset")
    first.find_element(By.NAME, "domainName").send_keys("bad..example.com")
    first.find_element(By.NAME, "distribution_id").send_keys(TEMPLATE)
    second.find_element(By.NAME, "domainName").send_keys("good.example.com")
    second.find_element(By.NAME, "distribution_id").send_keys("not-an-id")
    browser.find_element(By.ID, "preview").click()
    wait(browser, lambda b: visible(b, ".field-error"))
    shoot("new-create-errors")
    domain = browser.find_element(By.CSS_SELECTOR, '[data-field="cnameList[0].domainName"]')
    assert "bad..example.com" in domain.find_element(By.CLASS_NAME, "field-error").text
    template = browser.find_element(
        By.CSS_SELECTOR, '[data-field="cnameList[1].existing_cf_info.distribution_id"]'
    )
    assert "CloudFront distribution id" in template.find_element(By.CLASS_NAME, "field-error").text
    assert not browser.find_element(By.ID, "submit").is_enabled()

    # Import: the files are read by the page; the key never appears in it.
    issued = issue(["shop.example.com", "www.shop.example.com"])
    files = {
        "CertPem": issued.cert_pem,
        "PrivateKeyPem": issued.key_pem,
        "ChainPem": issued.chain_pem,
    }
    for name, text in files.items():
        (tmp_path / f"{name}.pem").write_text(text)
    browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=import]").click()
    item = visible(browser, "#import-items fieldset")[0]
    for name in files:
        item.find_element(By.NAME, name).send_keys(str(tmp_path / f"{name}.pem"))
    item.find_element(By.NAME, "distribution_id").send_keys(TEMPLATE)
    browser.find_element(By.ID, "preview").click()
    rows = wait(browser, lambda b: visible(b, "#preview-result tbody tr"))
    assert [r.text for r in rows] == [
        f"pemList[0] shop.example.com, www.shop.example.com imported {TEMPLATE}, its live "
        "configuration"
    ]
    shoot("new-import-preview")
    key_body = "".join(issued.key_pem.strip().splitlines()[1:-1])
    page = browser.page_source.replace("\n", "")
    assert key_body[:40] not in page and "PRIVATE KEY-----" not in page
    assert browser.find_element(By.ID, "submit").is_enabled()


def test_a_job_from_the_form_to_success_then_deleted(
    working: str,
    browser: WebDriver,
    service: Service,
    downloads: Path,
    shoot: Callable[[str], Path],
) -> None:
    browser.get(f"{working}/console/")
    wait(browser, lambda b: path_of(b) == "/console/sign-in")
    sign_in(browser, API_KEY)
    wait(browser, lambda b: path_of(b) == "/console/" and visible(b, "#jobs"))
    assert visible(browser, "#empty")[0].text == "No jobs yet."

    browser.find_element(By.LINK_TEXT, "New job").click()
    wait(browser, lambda b: path_of(b) == "/console/new")
    browser.find_element(By.ID, "request-file").send_keys(str(REQUESTS / "create-two.json"))
    note = wait(browser, lambda b: visible(b, "#request-file-loaded"))[0]
    assert "create-two.json" in note.text
    browser.find_element(By.ID, "preview").click()
    rows = wait(browser, lambda b: visible(b, "#preview-result tbody tr"))
    assert [r.get_attribute("data-item") for r in rows] == ["cnameList[0]", "cnameList[1]"]
    assert "yourdomainname1alias2.com" in rows[0].text
    shoot("new-preview")
    browser.find_element(By.ID, "submit").click()

    wait(browser, lambda b: path_of(b).startswith("/console/jobs/"))
    job_id = path_of(browser).rsplit("/", 1)[1]
    # The DNS validation records appear while the job runs, each with copy buttons.
    wait(browser, lambda b: visible(b, "dl.record"), timeout=120)
    shoot("job-validating")

    wait(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, "#job-status .badge").text == "SUCCESS",
        timeout=240,
    )
    bars = browser.find_elements(By.CSS_SELECTOR, "#stages progress")
    assert [(b.get_attribute("value"), b.get_attribute("max")) for b in bars] == [("2", "2")] * 3
    job = job_calls.status(service, job_id)
    deployed = {i["distributionId"] for i in job["items"]}
    table = browser.find_element(By.ID, "items").text
    assert all(dist in table for dist in deployed)
    shoot("job")
    # Finished: the page no longer changes under the click.
    copy = browser.find_element(By.CSS_SELECTOR, "dl.record button.copy")
    copy.click()
    wait(browser, lambda b: copy.text == "Copied")

    expected = {
        (item["key"], r["name"], r["type"], r["value"])
        for item in job["items"]
        for r in item["validationRecords"]
    }
    shown = {
        b.get_attribute("data-copy")
        for b in browser.find_elements(By.CSS_SELECTOR, "dl.record button")
    }
    assert {name for _, name, _, _ in expected} | {value for *_, value in expected} == shown
    browser.find_element(By.ID, "download-csv").click()
    csv_file = downloads / f"{job_id}-dns-validation.csv"
    wait(browser, lambda _: csv_file.exists() and csv_file.stat().st_size > 0)
    rows_read = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    got = {(r["item"], r["record_name"], r["record_type"], r["record_value"]) for r in rows_read}
    assert got == expected and len(rows_read) == len(expected)
    browser.find_element(By.ID, "download-zone").click()
    zone_file = downloads / f"{job_id}-dns-validation.zone"
    wait(browser, lambda _: zone_file.exists() and zone_file.stat().st_size > 0)
    zone_lines = [line for line in zone_file.read_text().splitlines() if not line.startswith(";")]
    assert sorted(zone_lines) == sorted(
        f"{name}\t300\tIN\t{kind}\t{value}" for _, name, kind, value in expected
    )

    browser.find_element(By.LINK_TEXT, "Jobs").click()
    row = wait(browser, lambda b: visible(b, f'tr[data-job-id="{job_id}"]'))[0]
    assert "SUCCESS" in row.text and "2 / 2" in row.text
    Select(browser.find_element(By.ID, "status-filter")).select_by_visible_text("FAILED")
    assert not visible(browser, f'tr[data-job-id="{job_id}"]')
    Select(browser.find_element(By.ID, "status-filter")).select_by_value("")
    browser.find_element(By.ID, "search").send_keys("yourdomainname2alias1")
    assert visible(browser, f'tr[data-job-id="{job_id}"]')
    shoot("jobs")

    browser.find_element(By.LINK_TEXT, "Certificates").click()
    certificates = wait(browser, lambda b: visible(b, "#certificates tbody tr"))
    assert {c.get_attribute("data-arn") for c in certificates} == set(job["certList"])
    shoot("certificates")

    browser.get(f"{working}/console/jobs/{job_id}")
    wait(browser, lambda b: visible(b, "#delete-job"))[0].click()
    doomed = wait(browser, lambda b: visible(b, "#doomed li"))
    listed = "\n".join(d.text for d in doomed)
    assert all(arn in listed for arn in job["certList"])
    assert all(dist in listed for dist in deployed)
    shoot("delete-confirmation")
    browser.find_element(By.ID, "confirm-delete-button").click()
    gone = wait(browser, lambda b: visible(b, "#gone"), timeout=180)[0]
    assert "has been deleted" in gone.text
    shoot("deleted")

    browser.find_element(By.LINK_TEXT, "All jobs").click()
    wait(
        browser,
        lambda b: visible(b, "#empty") and b.find_element(By.ID, "empty").text == "No jobs yet.",
    )
    assert job_id not in json.dumps(job_calls.statuses(service)[0])


def test_an_imported_certificate_renewed_from_the_job_page(
    working: str, browser: WebDriver, service: Service, shoot: Callable[[str], Path]
) -> None:
    body = (REQUESTS / "import-one-working.json").read_bytes()
    job_id = job_calls.submit(service, body, lambda _: None)
    browser.get(f"{working}/console/")
    wait(browser, lambda b: path_of(b) == "/console/sign-in")
    sign_in(browser, API_KEY)
    wait(browser, lambda b: path_of(b) == "/console/" and visible(b, "#jobs"))
    browser.get(f"{working}/console/jobs/{job_id}")
    wait(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, "#job-status .badge").text == "SUCCESS",
        timeout=240,
    )
    [item] = job_calls.status(service, job_id)["items"]
    fresh = issue(item["names"])
    stranger = issue(["elsewhere.example.com"])

    def renew_with(key_pem: str) -> None:
        wait(browser, lambda b: visible(b, f'button[data-renew="{item["key"]}"]'))[0].click()
        form = wait(browser, lambda b: visible(b, "#renew-form"))[0]
        for name, value in (
            ("CertPem", fresh.cert_pem),
            ("PrivateKeyPem", key_pem),
            ("ChainPem", fresh.chain_pem),
        ):
            field = form.find_element(By.NAME, name)
            browser.execute_script("arguments[0].value = arguments[1]", field, value)
        browser.find_element(By.ID, "renew-button").click()

    renew_with(stranger.key_pem)  # not the certificate's key: refused at its field
    errors = wait(browser, lambda b: visible(b, "#renew-errors li"))
    assert any(e.text.startswith("PrivateKeyPem:") for e in errors)
    assert "PRIVATE KEY" not in browser.find_element(By.ID, "renew").text
    assert browser.find_element(By.NAME, "PrivateKeyPem").get_attribute("value") == ""
    shoot("renew-refused")
    browser.find_element(By.ID, "cancel-renew").click()

    renew_with(fresh.key_pem)
    wait(browser, lambda b: not b.find_element(By.ID, "renew").get_attribute("open"))
    acm = aws("acm")
    wait(
        browser,
        lambda _: (
            acm.get_certificate(CertificateArn=item["certificateArn"])["Certificate"].strip()
            == fresh.cert_pem.strip()
        ),
        timeout=240,
    )
    wait(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, "#job-status .badge").text == "SUCCESS",
        timeout=120,
    )
    [after] = job_calls.status(service, job_id)["items"]
    assert (after["certificateArn"], after["distributionId"]) == (
        item["certificateArn"],
        item["distributionId"],
    )
    shoot("renewed")
