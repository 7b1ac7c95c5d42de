"""The control API for tests, under ``/_testserver/`` (no authentication, not counted).

    GET    /_testserver/stats             counters (see stats.Stats.snapshot; registry_reads: the Registry's
                                          answers, anonymous or authenticated)
    POST   /_testserver/reset             zero counters, clear request log and faults
    POST   /_testserver/sessions/expire   forget all security sessions
    POST   /_testserver/oidc/expire-access-tokens    the OIDC provider's access tokens stop working
                                                     (established security sessions stay)
    POST   /_testserver/oidc/expire-refresh-tokens   its refresh tokens stop working (invalid_grant)
    GET    /_testserver/oidc/tokens       how many of its access and refresh tokens are active
    GET    /_testserver/requests?last=N   recent requests, oldest first
    GET    /_testserver/faults            pending faults (each with the requests it matched and, by action,
                                          those it applied to), and the seed of their random numbers
    POST   /_testserver/faults            {"faults": [...]} append faults (faults.py: respond, delay, drop,
                                          reset, truncate, invalid_json, empty, drip, huge; at random with
                                          probability and actions)
    POST   /_testserver/faults/seed       {"seed": N} start the faults' random numbers afresh from N
                                          (a reset starts them from faults.DEFAULT_SEED)
    DELETE /_testserver/faults            clear faults
"""

import json

from .faults import FaultSpecError
from .messages import Response

PREFIX = "/_testserver"


def is_control_path(path):
    """True for paths of the control API."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def _json_body(request):
    try:
        return json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        return None


def _requests(app, request):
    last = request.query_value("last")
    if last is not None:
        try:
            last = int(last)
        except ValueError:
            return Response.error(400, "last must be an integer")
    return Response.json(200, {"requests": app.request_log.recent(last)})


def _add_faults(app, request):
    body = _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("faults"), list):
        return Response.error(400, 'expected a JSON object {"faults": [...]}')
    try:
        added = app.faults.add(body["faults"])
    except FaultSpecError as exc:
        return Response.error(400, str(exc))
    return Response.json(200, {"added": added, "pending": app.faults.pending()})


def _pending_faults(app, _request):
    return Response.json(200, {"pending": app.faults.pending(), "seed": app.faults.seed})


def _seed_faults(app, request):
    body = _json_body(request)
    if not isinstance(body, dict) or "seed" not in body:
        return Response.error(400, 'expected a JSON object {"seed": N}')
    try:
        app.faults.reseed(body["seed"])
    except FaultSpecError as exc:
        return Response.error(400, str(exc))
    return Response.json(200, {"seed": app.faults.seed})


def _reset(app, _request):
    app.reset()
    return Response.json(200, {"reset": True})


def _expire_sessions(app, _request):
    app.sessions.clear()
    return Response.json(200, {"sessions_expired": True})


def _expire_oidc_access_tokens(app, _request):
    app.oidc.access_tokens.clear()
    return Response.json(200, {"access_tokens_expired": True})


def _expire_oidc_refresh_tokens(app, _request):
    app.oidc.refresh_tokens.clear()
    return Response.json(200, {"refresh_tokens_expired": True})


def _oidc_tokens(app, _request):
    return Response.json(200, {"access_tokens_active": app.oidc.access_tokens.count_active(),
                               "refresh_tokens_active": app.oidc.refresh_tokens.count_active()})


def _clear_faults(app, _request):
    app.faults.clear()
    return Response.json(200, {"pending": []})


_ROUTES = {
    ("GET", "/stats"): lambda app, _request: Response.json(200, app.stats.snapshot()),
    ("POST", "/reset"): _reset,
    ("POST", "/sessions/expire"): _expire_sessions,
    ("POST", "/oidc/expire-access-tokens"): _expire_oidc_access_tokens,
    ("POST", "/oidc/expire-refresh-tokens"): _expire_oidc_refresh_tokens,
    ("GET", "/oidc/tokens"): _oidc_tokens,
    ("GET", "/requests"): _requests,
    ("GET", "/faults"): _pending_faults,
    ("POST", "/faults"): _add_faults,
    ("POST", "/faults/seed"): _seed_faults,
    ("DELETE", "/faults"): _clear_faults,
}


def handle_control(app, request):
    """Response of a control API request."""
    sub_path = request.path[len(PREFIX):].rstrip("/")
    route = _ROUTES.get((request.method, sub_path))
    if route is None:
        if any(path == sub_path for _method, path in _ROUTES):
            return Response.error(405, "Method %s not allowed on %s" % (request.method, request.path))
        return Response.error(404, "No control resource at '%s'" % request.path)
    return route(app, request)
