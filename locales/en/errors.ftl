# Errors a visitor can see: the general ones. Each says what went wrong and what to do.
# Technical details (a library's message, a field's name, a number) are arguments, kept
# as they are in every language.

# The 500 page: nothing of the cause, which goes to the log.
error-internal = Something went wrong on our side. Please try again; if it keeps happening, quote the request id.
error-shutting-down = The server is restarting: try again in a few seconds.
error-invalid-api-key = Incorrect API key provided. Create one at /settings/keys and send it as `Authorization: Bearer <key>`.
error-unknown-model = The model '{ $model }' does not exist on this deployment: GET /v1/models lists the models it offers.

# A sentence stored in the database before texts were stored by id, shown as it was
# written.
as-written = { $text }

# Something asked for that does not exist (or is not the visitor's): one sentence per
# thing.
not-found-answer = This answer does not exist: check the link, or start again from the home page.
not-found-api-key = This API key does not exist: check the link, or start again from the home page.
not-found-app = This app does not exist: check the link, or start again from the home page.
not-found-batch = This batch does not exist: check the link, or start again from the home page.
not-found-conversation = This conversation does not exist: check the link, or start again from the home page.
not-found-feedback = This feedback does not exist: check the link, or start again from the home page.
not-found-file = This file does not exist: check the link, or start again from the home page.
not-found-image = This image does not exist: check the link, or start again from the home page.
not-found-page = This page does not exist: check the link, or start again from the home page.
not-found-run = This run does not exist: check the link, or start again from the home page.
not-found-share = This share does not exist: check the link, or start again from the home page.
not-found-user = This user does not exist: check the link, or start again from the home page.

# An input that breaks its schema: every field's problem, in one sentence.
error-input-problems = The input has { $count } { $count ->
    [one] problem
   *[other] problems
}: { $problems }.
# One field's problem in that list: "`notes` is required".
field-problem = `{ $field }` { $problem }

# Requests the server could not read. `detail` is axum's own message, in English.
rejection-json-syntax = { $detail }
rejection-json-data = { $detail }
rejection-json-content-type = { $detail }
rejection-form = { $detail }
rejection-query = { $detail }
rejection-form-content-type = { $detail }
rejection-body = { $detail }
error-cross-site = Cross-site requests are refused: use the site's own forms.
error-body-unread = The request body could not be read: send it again.
error-body-slow = The request body took longer than { $seconds } s to arrive: send it again.
error-body-too-large = The request body is larger than { $kib } KiB: send less.
error-form-not-utf8 = The form is not valid UTF-8 text: send it as UTF-8.

# The chat.
error-message-empty = The message is empty: write something to send.
error-message-control = The message contains control characters (such as NUL or ESC): remove them and send it again.
error-message-too-long = The message is { $chars } characters long; the limit is { $max }. Shorten it and send it again.
error-guest-conversations = Guests can keep up to { $max } conversations: delete one, or sign up to keep more.
error-nothing-to-regenerate = There is no question to answer again in this conversation.
error-answer-busy = An answer is still being written in this conversation: wait for it or stop it first.

# Rate limits and budgets: what is spent and when it comes back.
limit-requests = Too many requests from your address: wait { $seconds } s and try again.
limit-new-guests = Too many new visitors from your address: sign up, or try again in { $minutes } min.
limit-logins = Too many failed logins. Try again in { $minutes } min, or later from this address.
# When the daily budgets reset: "in 3 h 20 min".
resets-in-minutes = in { $minutes } min
resets-in-hours = in { $hours } h
resets-in-hours-minutes = in { $hours } h { $minutes } min
budget-paused-operator = The service is paused by its operator. New messages are accepted again at 00:00 UTC, { $resets }.
budget-paused-spent = The service is paused: today's budget is spent. New messages are accepted again at 00:00 UTC, { $resets }.
budget-user-tokens = You have used today's allowance of { $limit } tokens. It resets at 00:00 UTC, { $resets }.
budget-guest-messages = You have used today's guest allowance of { $limit } { $limit ->
    [one] message
   *[other] messages
}. It resets at 00:00 UTC, { $resets }. Sign up for a larger allowance.
budget-guest-tokens = You have used today's guest allowance of { $limit } tokens. It resets at 00:00 UTC, { $resets }. Sign up for a larger allowance.

# Accounts.
error-wrong-login = Wrong email or password.
error-signup-closed = Sign-up is closed on this site.
error-email = Enter an email address, like name@example.com.
error-email-taken = An account with this email exists already: log in instead.
error-invite = This invite code is not valid or was used already.
error-password-short = The password is too short: use at least { $min } characters.
error-password-long = The password is too long: use at most { $max } characters.
error-password-common = This password is too common and easy to guess: choose another one.
error-admins-only = This page is for admins only.
error-admins-only-log-in = This page is for admins only: log in with an admin account.

# Titles, API keys, the language switcher, settings.
error-title-empty = The title is empty: write a title.
error-title-control = The title contains control characters (such as NUL or ESC): remove them.
error-title-long = The title is longer than { $max } characters: shorten it.
error-key-name-empty = The name is empty: name the key after where it is used, like "laptop".
error-key-name-control = The name contains control characters (such as NUL or ESC): remove them.
error-key-name-long = The name is longer than { $max } characters: shorten it.
error-language = The language '{ $lang }' is not offered: choose one of { $offered }.
error-opt-out-value = `opt_out` must be 1 (keep my conversations out) or 0 (allow them).
error-page-range = `limit` must be 1 to { $max } and `offset` 0 or more.

# Feedback on an answer. A field's problem follows its name.
feedback-bad-rating = `{ $rating }` is not a rating: use `up`, `down`, or leave it out.
feedback-bad-tag = `{ $tag }` is not a known tag: use { $tags }.
feedback-too-long = is { $chars } characters long; the limit is { $max }: shorten it.
feedback-control = contains control characters (such as NUL or ESC): remove them.
feedback-empty = The feedback is empty: give a rating, a tag, a comment or a correction (or delete the feedback to take it back).
feedback-still-writing = This answer is still being written: judge it once it has ended.

# The OpenAI-compatible API (/v1), which always answers in English: SDKs and the
# programs around them read these texts. Its request checks write their sentences in
# the code, as `problem`.
v1-request-problem = { $problem }
v1-too-many-tokens = The messages (with any tools and response format) are { $tokens } tokens long; this deployment accepts at most { $max }.
