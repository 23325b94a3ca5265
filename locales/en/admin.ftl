# The admin page: usage, the kill switch, users, sign-up, exports and API keys.

admin-title = Admin
admin-batches-link-html = <a href="/admin/batches">Dataset batches</a>: run an app or the chat prompt over many inputs, for the review queue.
admin-requests = Requests
admin-tokens = Tokens
admin-estimated-cost = Estimated cost
admin-cost = Cost
admin-errors = Errors

admin-model-calls = Model calls
admin-paused = Paused.
admin-paused-note = Every new message, from users and guests, is refused with “The service is paused by its operator.”
admin-resume-calls = Resume model calls
admin-running = Running.
admin-running-note = Pausing refuses every new message, from users and guests, until you resume; answers being written now finish.
admin-pause-calls = Pause model calls

admin-today = Today
admin-by-user = By user
admin-no-user-today = No user has sent a message today.
admin-by-guest = By guest address
admin-no-guest-today = No guest has sent a message today.
admin-last-30-days = Last 30 days
admin-day-range = { $first } to { $last }
admin-by-day = By day
admin-no-messages-30 = No messages in the last 30 days.
admin-by-app = By app
admin-no-calls-30 = No model calls in the last 30 days.
admin-top-spenders = Top spenders
admin-no-spenders = Nobody has spent anything in the last 30 days.
admin-guest = guest
admin-col-user = User
admin-col-address = Address
admin-col-day = Day
admin-col-app = App
admin-col-who = Who

admin-users = Users
admin-users-note = Tokens today count against the user's daily budget; an empty budget means the default of { $tokens } tokens.
admin-col-email = Email
admin-col-role = Role
admin-col-status = Status
admin-col-tokens-today = Tokens today
admin-col-budget = Daily token budget
admin-col-actions = Actions
admin-you = (you)
admin-role-admin = admin
admin-role-reviewer = reviewer
admin-role-user = user
admin-disabled = disabled
admin-active = active
admin-budget-of = Daily token budget of { $email }
admin-default = default
admin-save = Save
admin-enable = Enable
admin-disable = Disable
admin-reset-usage = Reset today's usage
admin-make-admin = Make admin
admin-remove-reviewer = Remove reviewer
admin-make-reviewer = Make reviewer

admin-signup = Sign-up
admin-signup-mode = Sign-up mode
admin-signup-open = Open: anyone can create an account
admin-signup-invite = Invite: only with an invite code
admin-signup-closed = Closed: no new accounts
admin-invites = Invite codes
admin-invites-note = Each code creates one account, and is asked for only while sign-up is set to Invite.
admin-create-invite = Create invite code
admin-col-code = Code
admin-col-used-by = Used by
admin-not-used = not used yet

admin-export = Export for fine-tuning
admin-export-off-html = Nothing can be exported: <code>data_policy</code> is <code>"off"</code> in promptship.toml. Set it to <code>"accounts"</code> (signed-in users who have not opted out) or <code>"all"</code> (guests too).
admin-export-accounts-html = Answers of users who have not opted out, and of dataset batches, as <code>train.jsonl</code>. Every example passes OpenAI's data checks; duplicates are dropped. The manifest says what was written and skipped. For a validation split, use <code>promptship export --split 0.9</code>.
admin-export-all-html = Answers of users who have not opted out, and guests, and of dataset batches, as <code>train.jsonl</code>. Every example passes OpenAI's data checks; duplicates are dropped. The manifest says what was written and skipped. For a validation split, use <code>promptship export --split 0.9</code>.
admin-format = Format
admin-format-pairs = preference pairs
admin-sft-formats = (SFT formats)
admin-app-placeholder = all; chat for chats
admin-since = Since
admin-download-train = Download train.jsonl
admin-manifest = Manifest

admin-no-keys = No live API keys.
admin-keys-note = Live keys of every user; times in UTC. A revoked key stops working at once.
admin-col-owner = Owner
admin-col-created = Created
admin-col-last-used = Last used
admin-revoke-label = Revoke { $name } of { $email }
