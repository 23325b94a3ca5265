# Settings → Your data (/settings/data): the training-data switch, the download, and
# deleting the account.

data-settings-link = Your data: what is kept, download it, delete your account
data-title = Your data
data-back-to-keys = ← API keys
data-training-heading = Training data
data-policy-off = This site keeps your conversations to show them to you, and uses none of them as training data.
data-policy-accounts = This site may review the answers in signed-in users' conversations and use them (with your ratings and corrections) as training data for its models.
data-policy-all = This site may review the answers in every conversation, guests' too, and use them (with ratings and corrections) as training data for its models.
data-opted-out = Your conversations are kept out.
data-allow = Allow my conversations
data-keep-out = Keep my conversations out
data-download-heading = Download my data
data-download-what = One JSON file with your account, every conversation and app run with all their messages (the answers you regenerated too), your feedback, your share links, your API keys (names and dates, never the keys) and today's usage.
data-download-button = Download my data
data-delete-heading = Delete my account
data-delete-what = This deletes your account and everything in it at once: conversations, app runs, feedback, share links (they stop working), API keys and devices. You are logged out everywhere. It cannot be undone.
data-delete-kept = The site's usage ledger keeps the tokens and cost of your past requests, with nothing that says they were yours, so its totals stay right.
data-delete-password = Type your password to confirm
data-delete-button = Delete my account
data-delete-wrong-password = That is not your password: nothing was deleted. Type the password you log in with.
data-delete-last-admin = You are the only admin: make someone else admin first (Admin → Users), then delete your account. Nothing was deleted.
data-deleted-title = Your account is deleted
data-deleted-body = Your account and everything in it are gone, and you are logged out on every device.
data-deleted-home = Back to the start
