"""Getting raw files onto disk: user-supplied folder first, then a verified download cache.

A download streams into a temporary file next to its target, hashing as it goes, and is
renamed into place only when it is complete and its checksum holds; a half-finished or
corrupted download never looks like a good file. Cached files carry a small sidecar
(`<file>.meta.json`) with url, size, sha256 and fetch time, and are re-hashed before use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import requests

from reelreason.http_limits import (
    ACCEPT_ENCODING,
    AnswerRefused,
    Limits,
    RedirectRefused,
    iter_requests_body,
    redirect_allowed,
)
from reelreason.sources import (
    DEFAULT_DOWNLOAD_DEADLINE_S,
    DEFAULT_DOWNLOAD_MAX_MB,
    Archive,
    Dataset,
    RawFile,
)

log = logging.getLogger(__name__)

CHUNK = 1 << 20
RETRY_STATUS = {429, 500, 502, 503, 504}
# Zip members compressing better than this (and over 100 MB) are refused as likely bombs.
MAX_COMPRESSION_RATIO = 200


class RawDataError(RuntimeError):
    """A raw file is missing, corrupt or does not match its pin; the message says what to do."""


@dataclass
class RawFileRecord:
    dataset: str
    path: str  # relative raw-layout path
    local_path: str
    origin: str  # user | cache | download | absent
    url: str
    bytes: int
    sha256: str
    pinned_sha256: str | None
    checksum_status: str  # verified | recorded | unpinned | mismatch_user | absent
    fetched_at: datetime

    def as_row(self) -> dict:
        return asdict(self)


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def sha256_of(path: Path) -> str:
    return digest_of(path, "sha256")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _retry_delay(attempt: int, base: float, retry_after: str | None) -> float:
    if retry_after:
        try:
            return min(float(retry_after), 120.0)
        except ValueError:
            pass
    return base * (2**attempt) * (0.5 + random.random())  # exponential backoff, full jitter


def stream_download(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    attempts: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    max_bytes: int = DEFAULT_DOWNLOAD_MAX_MB << 20,
    deadline: float = DEFAULT_DOWNLOAD_DEADLINE_S,
    redirects_to: tuple[str, ...] = (),
    progress: Callable[[str], None] | None = None,
) -> tuple[int, str]:
    """Download `url` to `dest` atomically; returns (bytes, sha256).

    Retries connection errors, timeouts, truncated bodies, 429 and 5xx with backoff
    (honouring Retry-After). A checksum mismatch is an error: the bytes are discarded.
    Bounds (never retried, the partial file discarded): at most `max_bytes` decoded bytes
    (a gzip-encoded answer is inflated by a bounded decoder), `deadline` seconds per
    attempt, and redirects only under `redirects_to` (default: the URL's own folder).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.part-{uuid.uuid4().hex[:8]}")
    limits = Limits(
        deadline, max_bytes, "REELREASON_DOWNLOAD_DEADLINE_S", "REELREASON_DOWNLOAD_MAX_MB"
    )
    last_problem = ""
    try:
        for attempt in range(attempts):
            retry_after = None
            started = time.monotonic()
            try:
                with _open_confined(session, url, timeout, redirects_to or (url,)) as resp:
                    if resp.status_code in RETRY_STATUS:
                        retry_after = resp.headers.get("Retry-After")
                        raise _Retryable(f"HTTP {resp.status_code}")
                    if resp.status_code >= 400:
                        raise RawDataError(
                            f"Download of {url} failed with HTTP {resp.status_code} "
                            f"({resp.reason}); check the URL or supply the file by hand."
                        )
                    # Content-Length counts the bytes on the wire, encoded or not.
                    expected = resp.headers.get("Content-Length")
                    h_sha, h_md5, n = hashlib.sha256(), hashlib.md5(), 0
                    next_report = time.monotonic() + 5
                    with open(tmp, "wb") as out:
                        for chunk in iter_requests_body(resp, f"download {url}", limits, started):
                            out.write(chunk)
                            h_sha.update(chunk)
                            h_md5.update(chunk)
                            n += len(chunk)
                            if progress and time.monotonic() > next_report:
                                total = f" of {int(expected) / 1e6:.1f}" if expected else ""
                                progress(f"{dest.name}: {n / 1e6:.1f}{total} MB")
                                next_report = time.monotonic() + 5
                    wire = resp.raw.tell()
                    if expected is not None and expected.isdigit() and int(expected) != wire:
                        raise _Retryable(f"truncated body: {wire} of {expected} bytes")
            except (requests.ConnectionError, requests.Timeout, _Retryable) as exc:
                last_problem = str(exc) or type(exc).__name__
                if attempt + 1 < attempts:
                    delay = _retry_delay(attempt, backoff, retry_after)
                    log.warning("download %s: %s; retry in %.1fs", url, last_problem, delay)
                    time.sleep(delay)
                continue
            except AnswerRefused as exc:
                raise RawDataError(
                    f"{exc}. The partial download was discarded; raise the setting if the "
                    "file really is that large or slow, or supply the file by hand."
                ) from None
            got_sha = h_sha.hexdigest()
            if md5 and h_md5.hexdigest() != md5:
                raise RawDataError(
                    f"Checksum mismatch for {url}: MD5 {h_md5.hexdigest()} but pinned {md5}. "
                    "The download was discarded; the upstream file changed or was corrupted."
                )
            if sha256 and got_sha != sha256:
                raise RawDataError(
                    f"Checksum mismatch for {url}: sha256 {got_sha} but pinned {sha256}. "
                    "The download was discarded; the upstream file changed or was corrupted."
                )
            os.replace(tmp, dest)
            return n, got_sha
        raise _Unreachable(f"{url}: {last_problem} (after {attempts} attempts)")
    finally:
        tmp.unlink(missing_ok=True)


MAX_REDIRECTS = 5


def _open_confined(
    session: requests.Session, url: str, timeout: float, allowed: tuple[str, ...]
) -> requests.Response:
    """GET `url`, following at most MAX_REDIRECTS redirects, each of which must stay under
    `allowed` (same scheme and host, path under the prefix): a mirror cannot send us to
    another host, or to http from https. We ask only for encodings we can bound."""
    target = url
    for _ in range(MAX_REDIRECTS + 1):
        resp = session.get(
            target,
            stream=True,
            timeout=(10, timeout),
            allow_redirects=False,
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )
        if not resp.is_redirect:
            return resp
        location = urljoin(target, resp.headers.get("Location", ""))
        resp.close()
        if not redirect_allowed(location, allowed):
            raise RedirectRefused(
                f"download {url}: redirected to {location}, outside the allowed "
                f"{', '.join(allowed)}; refusing to follow it"
            )
        target = location
    raise RedirectRefused(f"download {url}: more than {MAX_REDIRECTS} redirects")


class _Retryable(Exception):
    pass


class _Unreachable(Exception):
    pass


def _safe_member_target(root: Path, member: str) -> Path:
    pure = PurePosixPath(member)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise RawDataError(f"Refusing archive member with unsafe path {member!r}")
    return root.joinpath(*pure.parts)


def extract_member(
    archive_path: Path, member: str, dest: Path, *, max_bytes: int = DEFAULT_DOWNLOAD_MAX_MB << 20
) -> None:
    """Extract one member atomically, refusing traversal, bombs and broken archives.
    The size the archive declares is checked first, and the bytes actually inflated are
    counted while copying (a hostile archive can lie in its header): past `max_bytes`
    extraction stops and nothing is kept."""
    _safe_member_target(dest.parent, member)
    too_big = (
        f"{archive_path.name}:{member}: more than {max_bytes:,} bytes once extracted, over the "
        "cap (REELREASON_DOWNLOAD_MAX_MB); refusing a likely zip bomb. Raise the setting if "
        "the file really is that large."
    )
    try:
        with zipfile.ZipFile(archive_path) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise RawDataError(
                    f"{archive_path.name} has no member {member!r} "
                    f"(members: {', '.join(zf.namelist()[:10])})"
                ) from None
            if info.file_size > max_bytes:
                raise RawDataError(too_big)
            if (
                info.compress_size
                and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
                and info.file_size > 100 << 20
            ):
                raise RawDataError(
                    f"{archive_path.name}:{member} would expand to {info.file_size} bytes "
                    f"from {info.compress_size}: refusing a likely zip bomb"
                )
            tmp = dest.with_name(f"{dest.name}.part-{uuid.uuid4().hex[:8]}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                written = 0
                with zf.open(info) as src, open(tmp, "wb") as out:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise RawDataError(too_big)
                        out.write(chunk)
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise RawDataError(
            f"{archive_path} is not a readable zip archive ({exc}); it is probably truncated. "
            "Delete it and rerun to download it again."
        ) from exc


def user_raw_file(raw_dir: Path | None, rel_path: str, *, allow_links: bool = False) -> Path | None:
    """The file `rel_path` of a user's raw folder: its path when present, None when absent.
    A path that resolves outside the folder (a symbolic link, or a `..` in the layout) is
    refused with an error naming both ends, unless `allow_links` says links are deliberate:
    a raw folder must never become a way to read other files into the warehouse."""
    if raw_dir is None:
        return None
    path = Path(raw_dir) / rel_path
    if not path.is_file():
        return None
    root = Path(raw_dir).resolve()
    target = path.resolve()
    if not allow_links and not target.is_relative_to(root):
        raise RawDataError(
            f"Raw file {path} resolves to {target}, outside the raw folder {root}: refusing "
            "to read it. Copy the file into the folder, or set REELREASON_RAW_ALLOW_LINKS=1 "
            "if the link is deliberate."
        )
    return path


class RawFetcher:
    """Finds or fetches the raw files of a dataset.

    `raw_dir` (optional) is a user folder in the documented layout: files there are used
    as they are. `cache_dir` holds downloads. With `offline=True` nothing is downloaded.
    """

    def __init__(
        self,
        cache_dir: Path,
        raw_dir: Path | None = None,
        *,
        offline: bool = False,
        session: requests.Session | None = None,
        attempts: int = 5,
        backoff: float = 1.0,
        timeout: float = 60.0,
        progress: Callable[[str], None] | None = None,
        allow_links: bool = False,
        max_bytes: int = DEFAULT_DOWNLOAD_MAX_MB << 20,
        deadline: float = DEFAULT_DOWNLOAD_DEADLINE_S,
    ):
        self.cache_dir = Path(cache_dir)
        self.max_bytes, self.deadline = max_bytes, deadline
        self.raw_dir = Path(raw_dir) if raw_dir else None
        self.allow_links = allow_links
        self.offline = offline
        self.session = session or requests.Session()
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self.progress = progress or (lambda msg: log.info(msg))
        self.warnings: list[str] = []

    # Pins recorded on first download of files that upstream publishes no checksum for.
    @property
    def _pins_path(self) -> Path:
        return self.cache_dir / "recorded_checksums.json"

    def _recorded_pins(self) -> dict[str, str]:
        if self._pins_path.exists():
            return json.loads(self._pins_path.read_text())
        return {}

    def _record_pin(self, key: str, sha: str) -> None:
        pins = self._recorded_pins()
        pins[key] = sha
        self._pins_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._pins_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pins, indent=1, sort_keys=True))
        os.replace(tmp, self._pins_path)

    def _where_to_put(self, rf: RawFile) -> str:
        folder = self.raw_dir or Path("<REELREASON_RAW_DIR>")
        return str(folder / rf.path)

    def fetch_dataset(self, dataset: Dataset) -> list[RawFileRecord]:
        records = [self.fetch(dataset.name, rf) for rf in dataset.files]
        present = {r.path for r in records if r.origin != "absent"}
        if dataset.one_of and not any(set(group) <= present for group in dataset.one_of):
            options = " or ".join("{" + ", ".join(g) + "}" for g in dataset.one_of)
            raise RawDataError(
                f"{dataset.title}: none of the accepted file sets is complete. Provide {options} "
                f"under {self.raw_dir or 'REELREASON_RAW_DIR'}."
            )
        return records

    def fetch(self, dataset: str, rf: RawFile) -> RawFileRecord:
        if user_raw_file(self.raw_dir, rf.path, allow_links=self.allow_links):
            return self._user_file(dataset, rf)
        cached = self.cache_dir / rf.path
        meta_path = cached.with_name(cached.name + ".meta.json")
        if cached.is_file() and meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            if sha256_of(cached) == meta["sha256"]:
                return RawFileRecord(
                    dataset,
                    rf.path,
                    str(cached),
                    "cache",
                    rf.origin_url,
                    cached.stat().st_size,
                    meta["sha256"],
                    rf.sha256,
                    meta["checksum_status"],
                    datetime.fromisoformat(meta["fetched_at"]),
                )
            self.warnings.append(f"{rf.path}: cached copy is corrupted; fetching it again")
            cached.unlink()
        try:
            if self.offline:
                raise _Unreachable("offline profile: downloads are disabled")
            if rf.url is None and rf.archive is None:
                raise _Unreachable("it has no public download")
            return self._download(dataset, rf, cached, meta_path)
        except _Unreachable as exc:
            if not rf.required:
                return RawFileRecord(
                    dataset,
                    rf.path,
                    "",
                    "absent",
                    rf.origin_url,
                    0,
                    "",
                    rf.sha256,
                    "absent",
                    _now(),
                )
            raise RawDataError(
                f"Missing raw file {rf.path}: it is not in "
                f"{self.raw_dir or 'REELREASON_RAW_DIR (unset)'} and could not be downloaded "
                f"from {rf.origin_url} ({exc}). Download it by hand and put it at "
                f"{self._where_to_put(rf)}."
            ) from None

    def _user_file(self, dataset: str, rf: RawFile) -> RawFileRecord:
        local = self.raw_dir / rf.path
        sha = sha256_of(local)
        pinned = rf.sha256 or self._recorded_pins().get(rf.path)
        status = "unpinned"
        if pinned:
            status = "verified" if sha == pinned else "mismatch_user"
            if status == "mismatch_user":
                # User-supplied files may legitimately differ (a newer cut, a sample): warn only.
                self.warnings.append(
                    f"{local}: sha256 {sha[:12]}… differs from the pinned {pinned[:12]}…"
                )
        return RawFileRecord(
            dataset,
            rf.path,
            str(local),
            "user",
            rf.origin_url,
            local.stat().st_size,
            sha,
            pinned,
            status,
            datetime.fromtimestamp(local.stat().st_mtime, timezone.utc),
        )

    def _download(self, dataset: str, rf: RawFile, dest: Path, meta_path: Path) -> RawFileRecord:
        recorded = self._recorded_pins()
        if rf.archive is not None:
            archive_path = self._download_archive(rf.archive, recorded)
            extract_member(archive_path, rf.member, dest, max_bytes=self.max_bytes)
            sha, size = sha256_of(dest), dest.stat().st_size
            status = "verified" if (rf.archive.md5 or rf.archive.sha256) else "recorded"
        else:
            pin = rf.sha256 or recorded.get(rf.path)
            self.progress(f"downloading {rf.url}")
            size, sha = stream_download(
                self.session,
                rf.url,
                dest,
                sha256=pin,
                attempts=self.attempts,
                backoff=self.backoff,
                timeout=self.timeout,
                max_bytes=self.max_bytes,
                deadline=self.deadline,
                redirects_to=rf.redirects_to,
                progress=self.progress,
            )
            status = "verified" if pin else "recorded"
            if not pin:
                self._record_pin(rf.path, sha)
        fetched = _now()
        meta_path.write_text(
            json.dumps(
                {
                    "url": rf.origin_url,
                    "bytes": size,
                    "sha256": sha,
                    "checksum_status": status,
                    "fetched_at": fetched.isoformat(),
                }
            )
        )
        return RawFileRecord(
            dataset,
            rf.path,
            str(dest),
            "download",
            rf.origin_url,
            size,
            sha,
            rf.sha256 or recorded.get(rf.path),
            status,
            fetched,
        )

    def _download_archive(self, archive: Archive, recorded: dict[str, str]) -> Path:
        path = self.cache_dir / "_archives" / archive.name
        key = f"_archives/{archive.name}"
        pin_sha = archive.sha256 or recorded.get(key)
        if path.is_file():
            if archive.md5:
                if digest_of(path, "md5") == archive.md5:
                    return path
            elif pin_sha and sha256_of(path) == pin_sha:
                return path
            path.unlink()  # stale or corrupted: fetch again
        self.progress(f"downloading {archive.url}")
        _, sha = stream_download(
            self.session,
            archive.url,
            path,
            md5=archive.md5,
            sha256=pin_sha,
            attempts=self.attempts,
            backoff=self.backoff,
            timeout=self.timeout,
            max_bytes=self.max_bytes,
            deadline=self.deadline,
            redirects_to=archive.redirects_to,
            progress=self.progress,
        )
        if not (archive.md5 or pin_sha):
            self._record_pin(key, sha)
        return path
