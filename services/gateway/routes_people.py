"""People's routes: sessions (sign-out, password change), account recovery (e-mail verification,
password reset), the mentor's photo, availability and the roll of mentors (accreditation).

A mixin of GatewayService (it has the RPC proxies). Identity decides who may act: a mentor keeps
their own availability and applies; only moderators list applications and decide (403 otherwise).
"""

import base64
from datetime import datetime, timezone

from werkzeug.wrappers import Response

from contracts import vocabulary as v
from contracts.errors import EmailNotVerified
from contracts.rpc_identity import (
    AccreditationApplicationSchema,
    AccreditationViewSchema,
    ApplicationReviewSchema,
    AvailabilitySchema,
    AvailabilityViewSchema,
    DecisionReasonSchema,
    EmailVerificationSchema,
    EmailVerifiedSchema,
    ErasedViewSchema,
    ErasureConfirmationSchema,
    ErasureReasonSchema,
    MentorProfileViewSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    PhotoViewSchema,
    StatusViewSchema,
)
from contracts.validation import schema_of
from services.gateway.entrypoints import http
from services.gateway.schemas_people import ApplicationReviewListSchema, ApplicationStateQuerySchema, MyDataSchema

PHOTO_CACHE_SECONDS = 300  # the photo URL names its version (?v=), so a cached photo is never a stale one
EMAIL_NOT_VERIFIED = "Confirm your e-mail address first: open the link we sent you (or ask for a new one)."


def require_verified_email(request):
    """Filing a case needs a confirmed e-mail: the flag is the token's, unless identity said otherwise
    since (AccountChanged, services/gateway/sessions.py); identity checks its own account row for
    accreditation."""
    if not getattr(request, "email_verified", False):
        raise EmailNotVerified(EMAIL_NOT_VERIFIED)


PERSONAL_DATA_SERVICES = ("identity", "cases", "notifications", "library", "matching")


class PeopleRoutes:
    # ---- the right of access --------------------------------------------------------------

    @http(
        "GET",
        "/api/v1/me/data",
        returns=MyDataSchema,
        tag="auth",
        summary="Everything the platform holds about the signed-in person, from every service, as one document",
    )
    def my_data(self, request, actor):
        """Each service answers for its own records of the signed actor (``records_of``): the gateway only
        gathers them, so no service reads another's data and none answers for someone else."""
        document = {"user_id": actor["user_id"], "generated_at": datetime.now(timezone.utc).isoformat()}
        for service in PERSONAL_DATA_SERVICES:
            document[service] = getattr(self, service).records_of(actor) or {}
        return document

    # ---- sessions -----------------------------------------------------------------------

    @http(
        "POST",
        "/api/v1/auth/sign-out",
        returns=StatusViewSchema,
        tag="auth",
        summary="Sign out: the token's session is revoked; the token is refused (401) from now on",
    )
    def sign_out(self, request, actor):
        signed_out = self.identity.sign_out(request.access_token)
        # refused here at once; the other gateway processes learn it from identity's SessionsRevoked
        self.sessions.revoke([request.token_claims["session_id"]])
        return signed_out

    @http(
        "PUT",
        "/api/v1/me/password",
        body=PasswordChangeSchema,
        returns=PasswordChangedSchema,
        tag="auth",
        errors=(429,),
        summary="Change the password (the current one is checked, throttled like a sign-in); "
        "every other session is signed out",
    )
    def change_password(self, request, actor, body):
        return self.identity.change_password(actor, request.access_token, body, request.client_address)

    # ---- erasure (crypto-shredding: identity deletes the person's key, every service its copies) ----

    @http(
        "DELETE",
        "/api/v1/me",
        body=ErasureConfirmationSchema,
        returns=ErasedViewSchema,
        tag="auth",
        errors=(429,),
        summary="Erase one's own data, confirming with the password (checked, throttled like a sign-in): the "
        "account closes for good, every session ends, and every service shreds what it holds of the person",
    )
    def erase_own_account(self, request, actor, body):
        erased = self.identity.erase_own_account(actor, request.access_token, body, request.client_address)
        # refused here at once; the other gateway processes learn it from identity's SessionsRevoked
        self.sessions.revoke([request.token_claims["session_id"]])
        return erased

    @http(
        "POST",
        "/api/v1/people/<person_id>/erasure",
        body=ErasureReasonSchema,
        returns=ErasedViewSchema,
        tag="auth",
        summary="Erase a mentee's or mentor's data on their written request, with a reason naming the request "
        "(recorded with the moderator; moderators). Again for an erased person: the same answer, no change",
    )
    def erase_person(self, request, actor, person_id, body):
        return self.identity.erase_person(actor, person_id, body)

    # ---- account recovery: e-mail verification and password reset ------------------------

    @http(
        "POST",
        "/api/v1/auth/email-verification",
        body=EmailVerificationSchema,
        returns=EmailVerifiedSchema,
        auth=False,
        tag="auth",
        summary="Confirm the e-mail address with the token of the link sent to it "
        "(once; a wrong, used or expired token is a 400 on 'token')",
    )
    def verify_email(self, request, body):
        return self.identity.verify_email(body)

    @http(
        "POST",
        "/api/v1/auth/email-verification/resend",
        returns=StatusViewSchema,
        status=202,
        tag="auth",
        summary="Send the signed-in user a new verification link (nothing when already verified)",
    )
    def resend_verification(self, request, actor):
        return self.identity.resend_verification(actor)

    @http(
        "POST",
        "/api/v1/auth/password-reset",
        body=PasswordResetRequestSchema,
        returns=StatusViewSchema,
        status=202,
        auth=False,
        tag="auth",
        summary="E-mail a one-time password reset link to the address; the same answer whether or not it "
        "has an account",
    )
    def request_password_reset(self, request, body):
        return self.identity.request_password_reset(body)

    @http(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        body=PasswordResetSchema,
        returns=PasswordChangedSchema,
        auth=False,
        tag="auth",
        summary="Set a new password with the reset link's token (once, before it "
        "expires); every session of the account ends",
    )
    def reset_password(self, request, body):
        return self.identity.reset_password(body)

    # ---- the mentor's profile: own view and photo --------------------------------------

    @http(
        "GET",
        "/api/v1/me/mentor-profile",
        returns=MentorProfileViewSchema,
        tag="mentors",
        summary="The signed-in mentor's profile as the public sees it (404 before the first)",
    )
    def get_own_mentor_profile(self, request, actor):
        return self.identity.get_mentor_profile(actor["user_id"])

    @http(
        "PUT",
        "/api/v1/me/mentor-profile/photo",
        body_media=v.PHOTO_TYPES,
        max_body=v.PHOTO_MAX_BYTES,
        returns=PhotoViewSchema,
        tag="mentors",
        summary="Upload the signed-in mentor's photo: the raw JPEG or PNG as the body, at most 2 MB",
    )
    def put_mentor_photo(self, request, actor, body):
        photo = {"content_type": body.media_type, "data": base64.b64encode(body.data).decode("ascii")}
        return self.identity.set_mentor_photo(actor, photo)

    @http(
        "GET",
        "/api/v1/mentors/<mentor_id>/photo",
        auth=False,
        returns_media=v.PHOTO_TYPES,
        tag="mentors",
        summary="A mentor's photo (public), the image itself",
    )
    def get_mentor_photo(self, request, mentor_id):
        photo = self.identity.get_mentor_photo(mentor_id)
        headers = {
            "ETag": f'"{photo["etag"]}"',
            "Cache-Control": f"public, max-age={PHOTO_CACHE_SECONDS}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        }
        if request.if_none_match.contains(photo["etag"]):
            return Response(status=304, headers=headers)
        return Response(base64.b64decode(photo["data"]), status=200, mimetype=photo["content_type"], headers=headers)

    # ---- availability -------------------------------------------------------------------

    @http(
        "GET",
        "/api/v1/me/availability",
        returns=AvailabilityViewSchema,
        tag="mentors",
        summary="The signed-in mentor's availability: open cases at once, periods away (private)",
    )
    def get_availability(self, request, actor):
        return self.identity.get_availability(actor)

    @http(
        "PUT",
        "/api/v1/me/availability",
        body=AvailabilitySchema,
        returns=AvailabilityViewSchema,
        tag="mentors",
        summary="Write the signed-in mentor's availability; matching proposes only mentors with room who are not away",
    )
    def update_availability(self, request, actor, body):
        # dumped back: the dates cross RPC as ISO strings
        return self.identity.update_availability(actor, schema_of(AvailabilitySchema).dump(body))

    # ---- the roll of mentors ------------------------------------------------------------

    @http(
        "GET",
        "/api/v1/me/accreditation",
        returns=AccreditationViewSchema,
        tag="accreditation",
        summary="The signed-in mentor's place on the roll of mentors, the latest application and reason",
    )
    def get_accreditation(self, request, actor):
        return self.identity.get_accreditation(actor)

    @http(
        "POST",
        "/api/v1/me/accreditation",
        body=AccreditationApplicationSchema,
        returns=AccreditationViewSchema,
        status=201,
        tag="accreditation",
        errors=(409,),
        summary="Apply for the roll of mentors (409 while pending or accredited); needs a profile",
    )
    def apply_for_accreditation(self, request, actor, body):
        return self.identity.apply_for_accreditation(actor, body)

    @http(
        "GET",
        "/api/v1/accreditation/applications",
        query=ApplicationStateQuerySchema,
        returns=ApplicationReviewListSchema,
        tag="accreditation",
        summary="Applications in one state, with the applicants' public profiles (moderators)",
    )
    def list_applications(self, request, actor, query):
        return {"items": self.identity.list_accreditation_applications(actor, query["state"]) or []}

    @http(
        "POST",
        "/api/v1/accreditation/applications/<application_id>/approve",
        returns=ApplicationReviewSchema,
        tag="accreditation",
        errors=(409,),
        summary="Approve a pending application: the mentor is accredited (moderators)",
    )
    def approve_application(self, request, actor, application_id):
        return self.identity.approve_application(actor, application_id)

    @http(
        "POST",
        "/api/v1/accreditation/applications/<application_id>/reject",
        body=DecisionReasonSchema,
        returns=ApplicationReviewSchema,
        tag="accreditation",
        errors=(409,),
        summary="Reject a pending application with a reason for the mentor (moderators)",
    )
    def reject_application(self, request, actor, application_id, body):
        return self.identity.reject_application(actor, application_id, body)

    @http(
        "POST",
        "/api/v1/mentors/<mentor_id>/suspend",
        body=DecisionReasonSchema,
        returns=AccreditationViewSchema,
        tag="accreditation",
        errors=(409,),
        summary="Suspend an accredited mentor, with a reason: no longer listed or proposed (moderators)",
    )
    def suspend_mentor(self, request, actor, mentor_id, body):
        return self.identity.suspend_mentor(actor, mentor_id, body)

    @http(
        "POST",
        "/api/v1/mentors/<mentor_id>/reinstate",
        returns=AccreditationViewSchema,
        tag="accreditation",
        errors=(409,),
        summary="Reinstate a suspended mentor (moderators)",
    )
    def reinstate_mentor(self, request, actor, mentor_id):
        return self.identity.reinstate_mentor(actor, mentor_id)
