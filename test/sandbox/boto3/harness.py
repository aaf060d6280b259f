"""The checking half of boto3-operations.test.ts: calls through boto3 and what each answer must be.

Every call goes through boto3 (which parses each answer by AWS's own model), and every answer is
checked against the AWS documentation of its operation: the output members the test cares about
are present with the right types and values (`ok`), or the call fails with the documented error
code and HTTP status (`fails`). A check that fails is recorded, not raised, so one run reports
every wrong answer. `after-call` hooks record every operation boto3 called and how it was
answered, so the TypeScript side can prove that every operation the sandbox serves was called.

A known sandbox bug is a `gap`: its checks run, and what they find is reported by name as a known
gap (not a failure); a gap that no longer reproduces is reported too, so its mark can go.
"""

import datetime
import re
import time
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# One attempt: a retried call would hide the first answer. No client-side parameter checks: every
# constraint is the sandbox's to enforce, as AWS's servers do.
CONFIG = Config(retries={'total_max_attempts': 1}, parameter_validation=False)

S = str
I = int
B = bool
T = datetime.datetime
L = list
D = dict
BY = bytes

# An answer is an error when its status is 300 or more (S3's 304 Not Modified included).
ERROR_STATUS = 300


class Recorder:
    """What was called, what went wrong, and the known gaps."""

    def __init__(self):
        self.calls = {}
        # Service → operations whose answer an `ok` or `fails` checked (not only called, as a poll is).
        self.checked = {}
        self.failures = []
        self.gaps = []
        self.resolved = []
        self.timings = {}
        self.sessions = {}

    def after_call(self, http_response, parsed, model, **_):
        service = model.service_model.service_name
        status = http_response.status_code
        code = None
        if status >= ERROR_STATUS:
            code = (parsed.get('Error') or {}).get('Code') or str(status)
        self.calls.setdefault(service, {}).setdefault(model.name, []).append(
            {'status': status, 'error': code}
        )

    def session(self, profile=None, creds=None):
        key = (profile, tuple(sorted((creds or {}).items())))
        if key not in self.sessions:
            if creds:
                s = boto3.session.Session(
                    aws_access_key_id=creds['AccessKeyId'],
                    aws_secret_access_key=creds['SecretAccessKey'],
                    aws_session_token=creds.get('SessionToken'),
                )
            else:
                s = boto3.session.Session(profile_name=profile)
            # Registered before any client is made: clients copy the session's hooks.
            s.events.register('after-call', self.after_call)
            self.sessions[key] = s
        return self.sessions[key]

    def client(self, service, profile='dev', creds=None, **kw):
        return self.session(profile, creds).client(service, config=CONFIG, **kw)

    def fail(self, label, message):
        self.failures.append(f'{label}: {message}')


R = Recorder()


def _label(fn):
    """`service.method` for messages; records the operation as one whose answer is checked."""
    meta = fn.__self__.meta
    svc = meta.service_model.service_name
    R.checked.setdefault(svc, set()).add(meta.method_to_api_mapping[fn.__name__])
    return f'{svc}.{fn.__name__}'


def _get(value, path):
    for part in path.split('.') if path else []:
        if isinstance(value, list):
            i = int(part)
            if i >= len(value):
                raise KeyError(path)
            value = value[i]
        elif isinstance(value, dict):
            if part not in value:
                raise KeyError(path)
            value = value[part]
        else:
            raise KeyError(path)
    return value


def _matches(value, want):
    """Whether `value` is what `want` describes: a type, a pattern, a predicate, a value, or a dict or list of them."""
    if isinstance(want, dict):
        return isinstance(value, dict) and value.keys() == want.keys() and all(_matches(value[k], w) for k, w in want.items())
    if isinstance(want, list):
        return isinstance(value, list) and len(value) == len(want) and all(_matches(v, w) for v, w in zip(value, want))
    if want is I:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(want, type):
        return isinstance(value, want)
    if isinstance(want, re.Pattern):
        return isinstance(value, str) and want.fullmatch(value) is not None
    if callable(want):
        return bool(want(value))
    return value == want


def _describe(want):
    if isinstance(want, type):
        return want.__name__
    if isinstance(want, re.Pattern):
        return f'/{want.pattern}/'
    if callable(want):
        return 'a value the check accepts'
    return repr(want)


def check(label, answer, expect, absent=()):
    """Records a failure for each member of `expect` that is missing or wrong, and each present `absent` one."""
    for path, want in expect.items():
        try:
            value = _get(answer, path)
        except KeyError:
            R.fail(label, f'output member {path} is missing (answer: {_short(answer)})')
            continue
        if not _matches(value, want):
            R.fail(label, f'output member {path} is {_short(value)}, expected {_describe(want)}')
    for path in absent:
        try:
            value = _get(answer, path)
        except KeyError:
            continue
        R.fail(label, f'output member {path} should be absent, is {_short(value)}')


def _short(v):
    s = repr(v)
    return s if len(s) < 300 else s[:300] + '…'


def _status(answer):
    return answer.get('ResponseMetadata', {}).get('HTTPStatusCode')


def ok(fn, expect=None, absent=(), status=None, **kwargs):
    """Calls `fn(**kwargs)`, which must succeed with the members of `expect` (and HTTP `status`)."""
    label = _label(fn)
    try:
        answer = fn(**kwargs)
    except ClientError as e:
        err = e.response.get('Error', {})
        R.fail(label, f"failed with {err.get('Code')}: {err.get('Message')} (input {_short(kwargs)})")
        return None
    except Exception as e:  # noqa: BLE001 — an answer boto3 cannot parse is a wrong answer
        R.fail(label, f'{type(e).__name__}: {e}')
        return None
    if status is not None and _status(answer) != status:
        R.fail(label, f'HTTP status {_status(answer)}, expected {status}')
    check(label, answer, expect or {}, absent)
    return answer


def fails(code, status, fn, message=None, **kwargs):
    """Calls `fn(**kwargs)`, which must fail with error `code`, HTTP `status` (and a message matching `message`)."""
    label = _label(fn)
    try:
        answer = fn(**kwargs)
    except ClientError as e:
        err = e.response.get('Error', {})
        got = e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
        if err.get('Code') != code or got != status:
            R.fail(
                label,
                f"failed with {err.get('Code')} ({got}): {err.get('Message')}, expected {code} ({status})",
            )
        elif message is not None and not re.search(message, err.get('Message') or ''):
            R.fail(label, f"message {err.get('Message')!r} does not match /{message}/")
        return e.response
    except Exception as e:  # noqa: BLE001
        R.fail(label, f'{type(e).__name__}: {e}, expected {code} ({status})')
        return None
    R.fail(label, f'succeeded ({_short(answer)}), expected {code} ({status})')
    return None


def gap(name, body):
    """Runs `body`, whose checks find a known sandbox bug: what they find is the gap `name`, not a failure."""
    before = len(R.failures)
    try:
        body()
    except Exception as e:  # noqa: BLE001 — a known gap may fail in any way
        R.failures.append(f'{name}: {type(e).__name__}: {e}')
    found = R.failures[before:]
    del R.failures[before:]
    if found:
        R.gaps.append({'name': name, 'found': found})
    else:
        R.resolved.append(name)


def until(what, fn, timeout=60.0, interval=0.1):
    """Polls `fn` until it returns a value other than None; a timeout is a failure (and None)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v is not None:
            return v
        if time.monotonic() > end:
            R.fail('wait', f'timed out after {timeout:.0f} s waiting for {what}')
            return None
        time.sleep(interval)


def scenario(name, fn):
    """Runs one service's scenario; an exception in it (a bug in the script or a missing value) is a failure."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        R.fail(name, 'the scenario stopped: ' + traceback.format_exc(limit=4))
