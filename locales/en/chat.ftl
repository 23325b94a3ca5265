# The chat: the landing page, a conversation, the sidebar, a message and its meta line.

chat-manage = Manage
chat-new-title = New title
chat-rename = Rename
chat-delete = Delete conversation
chat-try-an-app = Or try an app:
chat-message-label = Message
chat-placeholder = Message { $site } (Enter to send, Shift+Enter for a new line)
chat-send = Send
chat-regenerate = Regenerate
chat-regenerate-title = Answer the last question again
chat-data-settings = Your data settings

# The site's data policy, under the composer.
chat-data-opted-out = Your conversations are kept out of this site's training data.
chat-data-used = Answers in your conversations may be reviewed and used, with your ratings and corrections, as training data.
chat-data-used-guests = Answers here, guests' too, may be reviewed and used, with ratings and corrections, as training data. Sign up to be able to opt out.

sidebar-new = New conversation
sidebar-label = Conversations
sidebar-empty = No conversations yet.

message-other-answers = { $count } other { $count ->
    [one] answer
   *[other] answers
} to this question
message-stop = Stop
message-preferred = ✓ Marked as the better answer
message-prefer = This one is better
message-prefer-title = Go on from this answer, and count it as the better one

# Under an answer: "gpt-4o-mini · 42 tokens · 1.3 s".
meta-tokens = { $count } tokens
meta-seconds = { $seconds } s
