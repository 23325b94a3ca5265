# Logging in and signing up.

account-log-in = Log in
account-sign-up = Sign up
account-email = Email
account-password = Password
account-password-hint = 8 to 128 characters; a passphrase of a few words is best.
account-invite = Invite code
account-create = Create account
account-no-account-html = No account yet? <a href="/signup">Sign up</a>.
account-closed-html = Sign-up is closed on this site. <a href="/login">Log in</a> if you have an account.
account-have-account-html = Have an account? <a href="/login">Log in</a>. Conversations you had as a guest stay yours.
