# Around every page: the header, the language switcher, the error page.

nav-apps = Apps
nav-review = Review
nav-admin = Admin
nav-settings = Settings
nav-log-out = Log out
nav-log-in = Log in
nav-sign-up = Sign up
nav-menu = Menu
nav-close = Close the menu
nav-main = Main
demo-badge = demo model
demo-badge-title = No model is configured: answers come from the built-in demo model. See the README to connect a real one.
drawer-open = ☰ Conversations
drawer-close = Close the list
language-switch-label = Language

error-request-id = Request id:
error-back = Back to the start
error-sign-up = Sign up for a larger allowance

# The heading of an error page, by status.
status-400 = Bad request
status-401 = Not logged in
status-403 = Not allowed
status-404 = Not found
status-405 = Method not allowed
status-408 = Too slow
status-409 = Conflict
status-413 = Too large
status-415 = Unsupported type
status-422 = Cannot be processed
status-429 = Limit reached
status-500 = Server error
status-502 = Model error
status-503 = Unavailable
status-other = Something went wrong
