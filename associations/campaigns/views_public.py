"""Public endpoints carried by e-mails (``/p/<slug>/e/…``, no login): unsubscribe (page and RFC 8058
one-click POST), open pixel and click redirect, each through a signed token naming this association.
A tampered, expired or other association's token gets a clear page (or, for the pixel, the image) and
changes nothing. Also the bounce webhook of the mail provider (``/webhooks/rebonds/``, bearer token).
"""

from __future__ import annotations

import base64
import hmac
import json

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from associations import unscoped
from associations.campaigns import services, tokens
from associations.models import Association, MailStatus, Member, OutgoingMail
from associations.services import ServiceError

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _problem(request: HttpRequest, problem: str, what: str) -> HttpResponse:
    return render(request, "campaigns/link_problem.html", {"problem": problem, "what": what},
                  status=410 if problem == "expired" else 404)


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a form of ours
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, association_slug: str, token: str) -> HttpResponse:
    association = request.association
    data, problem = tokens.read_unsubscribe_token(association.pk, token)
    member = None
    if data is not None:
        member = Member.objects.filter(association=association, pk=data["m"], anonymized_at=None).first()
    if member is None:
        return _problem(request, problem or "invalid", "unsubscribe")
    test = bool(data.get("t"))
    if request.method == "POST" and not test:
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.unsubscribe(member, via="one-click" if one_click else "link", request=request)
        if one_click:
            return HttpResponse("Désinscription enregistrée.", content_type="text/plain; charset=utf-8")
        return render(request, "campaigns/unsubscribe.html", {"member": member, "done": True})
    return render(request, "campaigns/unsubscribe.html", {
        "member": member, "done": False, "test": test, "already": member.mail_opt_out_at is not None,
    })


def _row(association: Association, data: dict | None) -> OutgoingMail | None:
    if data is None:
        return None
    return OutgoingMail.objects.filter(association=association, uid=data["u"]).only("id", "status").first()


@never_cache
def mail_open(request: HttpRequest, association_slug: str, token: str) -> HttpResponse:
    """The open pixel: always the image; a valid token records the first open and counts the others."""
    data, _problem_ = tokens.read_tracking_token(request.association.pk, token)
    row = _row(request.association, data)
    if row is not None and row.status == MailStatus.SENT:
        now = timezone.now()
        OutgoingMail.objects.filter(pk=row.pk).update(open_count=F("open_count") + 1,
                                                      opened_at=Coalesce(F("opened_at"), now))
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
def mail_click(request: HttpRequest, association_slug: str, token: str) -> HttpResponse:
    """The click redirect: only to the address signed in the token (no open redirect)."""
    data, problem = tokens.read_tracking_token(request.association.pk, token)
    target = (data or {}).get("l", "")
    row = _row(request.association, data)
    if row is None or not target.startswith(("http://", "https://")):
        return _problem(request, problem or "invalid", "click")
    if row.status == MailStatus.SENT:
        now = timezone.now()
        OutgoingMail.objects.filter(pk=row.pk).update(
            click_count=F("click_count") + 1, clicked_at=Coalesce(F("clicked_at"), now),
            opened_at=Coalesce(F("opened_at"), now))
    return HttpResponseRedirect(target)


# --- Bounce webhook (outside any tenant URL) ------------------------------------------------------


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"erreur": message}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def bounce_webhook(request: HttpRequest) -> HttpResponse:
    """``POST /webhooks/rebonds/`` with ``Authorization: Bearer <BOUNCE_WEBHOOK_TOKEN>`` and a JSON body
    ``{"email": "…", "type": "hard"|"soft", "raison": "…", "message_id": "<…>"}`` (message_id optional).

    The association is the one that sent the message (from its Message-ID) or, without one, every
    association that e-mailed or lists that address; each is updated inside its own scope.
    """
    expected = settings.BOUNCE_WEBHOOK_TOKEN
    if not expected:
        raise Http404  # whatever the method: an unconfigured endpoint does not exist
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _json_error("Jeton d'authentification manquant ou invalide.", 401)
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _json_error("Le corps de la requête doit être un objet JSON.", 400)
    if not isinstance(payload, dict):
        return _json_error("Le corps de la requête doit être un objet JSON.", 400)
    email = payload.get("email")
    email = email.strip() if isinstance(email, str) else ""
    kind = str(payload.get("type", "hard")).strip().lower()
    reason = str(payload.get("raison", payload.get("reason", "")))[:255]
    uid = str(payload.get("message_id", "")).strip("<> ").split(".")[0].split("@")[0]
    if kind not in services.BOUNCE_KINDS:
        return _json_error("Le champ « type » doit valoir « hard » ou « soft ».", 400)
    if not email or "@" not in email:
        return _json_error("Le champ « email » est obligatoire.", 400)
    association_ids = []
    if uid:
        owner = unscoped.association_of_mail(uid)
        association_ids = [owner] if owner else []
        if not association_ids:
            uid = ""
    if not association_ids:
        association_ids = unscoped.associations_of_address(email)
    marked = 0
    for association in Association.objects.filter(pk__in=association_ids):
        with scope(association=association):
            try:
                marked += services.record_bounce(association, email, kind=kind, reason=reason, uid=uid)
            except ServiceError as error:
                return _json_error(str(error), 400)
    return JsonResponse({"associations": len(association_ids), "adherents_marques": marked})
