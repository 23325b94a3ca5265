# The review queue: the list with its filters, and one answer under review.

review-title = Review
review-one-at-a-time = Review one at a time
review-policy-off-html = data_policy is off: only dataset batches are reviewed. Set <code>data_policy</code> in the site file to review visitors' answers.
review-policy-off-short = data_policy is off: only dataset batches are reviewed.
review-queue-done = Nothing left to review with these filters.
review-filters = Filters
review-any = any
review-chat = chat
review-prompt-version = Prompt version
review-hash-prefix = hash prefix
review-from = From
review-to = To
review-correction = Correction
review-has-one = has one
review-has-none = has none
review-filter = Filter
review-clear = Clear
review-no-match = No answers match.
review-col-answer = Answer
review-col-app = App
review-col-model = Model
review-col-written = Written (UTC)
review-col-rating = Rating
review-col-state = State
review-col-held-by = Held by
review-corrected = corrected
review-held-until = { $who } until { $until }
review-pages = Pages
review-previous-page = Previous page
review-next-page = Next page
review-page = Page { $page }
review-list-keys-html = Keys: <kbd>n</kbd> review one at a time · <kbd>j</kbd>/<kbd>k</kbd> next/previous answer, <kbd>Enter</kbd> open it; on an answer <kbd>a</kbd> accept, <kbd>e</kbd> edit, <kbd>r</kbd> reject, <kbd>s</kbd> skip. Without JavaScript, your browser's access keys (e.g. <kbd>Alt</kbd>+<kbd>Shift</kbd>+key) press the same buttons.

# A rating, by its name in the filter (up, down, none).
review-rating = { $rating ->
    [up] thumbs up
    [down] thumbs down
   *[none] no rating
}
# A review state, by its stored name (domain::ReviewState).
review-state = { $state ->
    [pending] pending
    [accepted] accepted
    [edited] edited
    [rejected] rejected
   *[other] { $state }
}

review-item-title = Review: { $title }
review-back = ← Back to the list
review-meta-app = app
review-meta-version = version
review-from-batch = dataset batch
review-from-guest = a guest's conversation
review-from-user = a user's conversation
review-last-by = last reviewed by { $who }
review-held-by-you = You hold this answer until { $until } UTC.
review-held-by-other = is reviewing this answer until { $until } UTC: your decision would be refused until then.
review-held-by-none = No one holds this answer: deciding claims it.
review-thread-label = The conversation up to the answer
review-answer-label = The answer under review
review-edit-label = Reviewer's edit
review-owner-feedback-label = The owner's feedback
review-owner-feedback = Owner's feedback
review-none = None.
review-tags = Tags:
review-comment = Comment:
review-correction-label = Correction:
review-decide = Decide
review-accept = Accept
review-skip = Skip
review-reject = Reject…
review-edit = Edit the answer
review-edit-saves = (Ctrl+Enter saves)
review-save-edit = Save edit
review-item-keys-html = Keys: <kbd>a</kbd> accept · <kbd>e</kbd> edit (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves, <kbd>Esc</kbd> leaves the box) · <kbd>r</kbd> reject, then <kbd>1</kbd>–<kbd>7</kbd> for the reason · <kbd>s</kbd> skip. Without JavaScript, your browser's access keys (e.g. <kbd>Alt</kbd>+<kbd>Shift</kbd>+key) press the same buttons.
review-siblings-label = Other answers to the same question
review-siblings = Other answers to this question
review-answer-n = Answer { $id }
review-preferred = (the owner's preferred answer)
review-audit = Audit trail
review-no-decisions = No decisions yet.
review-col-when = When (UTC)
review-col-who = Who
review-col-change = Change
review-col-reason = Reason
review-col-text = Text before → after
review-deleted-account = deleted account
review-show = show
