"""Every state change of a broadcast: drafts, review, quota slots, penalties, dispatch, delivery.

The only writer of the broadcasts app's business state: admin actions, tasks, commands
and the API call these names (a public contract: `services.submit_broadcast`,
`services.deliver_batch`, ...). One module per concern:

    drafts       validate_draft, validate_edit, create_broadcast, update_broadcast, duplicate_broadcast
    review       submit / withdraw / approve / reject / cancel / reschedule (lifecycle.TABLE decides)
    eligibility  check_can_send: account status (R7) and certification (R4) at send time;
                 eligibility_report: approval's checks asked ahead (certain refusals, warnings)
    quota        reserve / release / move the account-quota slot (R2, R3, R3a)
    penalties    record_violation, apply_penalties, void_violation (R7)
    dispatch     dispatch_due_broadcasts, dispatch_broadcast, requeue_stale_batches
    delivery     deliver_batch (R5, exactly once), finish_broadcast
    job_finished queue_job_finished_push, push_job_finished: the MASSSENDJOBFINISH event of API broadcasts
    control      pause_broadcast, resume_broadcast, start_sending
    locks        every row lock and its order
    insight      measure_unfollows (beat), unfollow_figures, review_unfollow_flags (R8)
    recipients   recipients_by_openid: a follower list given as openids (admin picker and API)
    api_sends    send_through_api, preview_through_api, cancel_through_api (the advanced mass interface)
"""

from .api_sends import cancel_through_api, preview_through_api, send_through_api
from .control import pause_broadcast, resume_broadcast, start_sending
from .delivery import deliver_batch, finish_broadcast
from .dispatch import dispatch_broadcast, dispatch_due_broadcasts, enqueue_batches, requeue_stale_batches
from .drafts import (
    EDITABLE_FIELDS,
    check_list_size,
    create_broadcast,
    draft_version,
    duplicate_broadcast,
    refuse_stale_edit,
    update_broadcast,
    validate_draft,
    validate_edit,
)
from .eligibility import SEND_TIME_GRACE, EligibilityReport, check_can_send, eligibility_report, refuse_past_send_time
from .insight import (
    account_rate,
    final_at,
    finished_broadcasts,
    measure_broadcast,
    measure_unfollows,
    measured_broadcasts,
    refresh_follower_days,
    review_unfollow_flags,
    unfollow_figures,
)
from .job_finished import job_finished_event, push_job_finished, queue_job_finished_push
from .penalties import apply_penalties, record_violation, void_violation
from .quota import move_reservation, release_reservation, reserve_slot
from .recipients import recipients_by_openid
from .review import (
    approve_broadcast,
    cancel_broadcast,
    reject_broadcast,
    reschedule_broadcast,
    submit_broadcast,
    withdraw_broadcast,
)

__all__ = [
    "unfollow_figures",
    "finished_broadcasts",
    "review_unfollow_flags",
    "refresh_follower_days",
    "measured_broadcasts",
    "measure_unfollows",
    "measure_broadcast",
    "account_rate",
    "final_at",
    "EDITABLE_FIELDS",
    "EligibilityReport",
    "SEND_TIME_GRACE",
    "refuse_past_send_time",
    "apply_penalties",
    "approve_broadcast",
    "cancel_broadcast",
    "cancel_through_api",
    "check_can_send",
    "check_list_size",
    "create_broadcast",
    "draft_version",
    "refuse_stale_edit",
    "deliver_batch",
    "duplicate_broadcast",
    "dispatch_broadcast",
    "dispatch_due_broadcasts",
    "eligibility_report",
    "enqueue_batches",
    "finish_broadcast",
    "job_finished_event",
    "move_reservation",
    "pause_broadcast",
    "push_job_finished",
    "queue_job_finished_push",
    "preview_through_api",
    "record_violation",
    "recipients_by_openid",
    "reject_broadcast",
    "release_reservation",
    "requeue_stale_batches",
    "reschedule_broadcast",
    "reserve_slot",
    "resume_broadcast",
    "send_through_api",
    "start_sending",
    "submit_broadcast",
    "update_broadcast",
    "validate_draft",
    "validate_edit",
    "void_violation",
    "withdraw_broadcast",
]
