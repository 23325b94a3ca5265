# Dataset batches (admin): the list, a batch's page and progress, the new batch form.

batches-title = Dataset batches
batches-intro-html = A batch runs one prompt app, or the chat prompt, over many inputs in the background. Its answers go to the review queue as <em>pending</em>.
batches-new = New batch
batches-none = No batch yet.
batches-col-batch = Batch
batches-col-runs = Runs
batches-col-state = State
batches-col-progress = Progress
batches-col-started = Started (UTC)
batches-done = Done
batches-failed = Failed
batches-finished-of = { $finished } of { $total } finished

# A batch's or an item's state, by its stored name.
batch-state = { $state ->
    [generating] generating
    [running] running
    [paused] paused
    [cancelled] cancelled
    [done] done
    [pending] pending
    [failed] failed
   *[other] { $state }
}

batch-runs = Runs
batch-started = started { $at } UTC
batch-refresh = Refresh
batch-eta-seconds = about { $s } s left
batch-eta-minutes = about { $min } min left
batch-eta-hours = about { $h } h { $min } min left
batch-resumes-at = It resumes by itself at { $at } UTC.
batch-proposed = { $total } of { $wanted } inputs proposed.
batch-proposed-dropped = { $total } of { $wanted } inputs proposed; dropped { $duplicates } near-duplicates and { $invalid } that failed the schema.
batch-running = Running
batch-pending = Pending
batch-pause = Pause
batch-resume = Resume
batch-cancel = Cancel
batch-items = Items
batch-no-inputs = No inputs yet.
batch-col-input = Input
batch-col-answer = Answer
batch-open-run = Open the run

batch-new-title = New dataset batch
batch-new-crumb = New
batch-row = Row { $row }:
batch-name-placeholder = Korean travel questions, round 1
batch-chat-prompt = The chat prompt (a message per input)
batch-concurrency = Concurrency
batch-concurrency-hint = Items running at once, 1 to 8.
batch-inputs = Inputs
batch-upload-file = Upload a file
batch-generate = Let the model propose inputs
batch-upload = Upload
batch-file = CSV or JSONL file
batch-upload-hint = UTF-8, at most { $size } and { $rows } rows.
batch-upload-hint-more-html = A CSV's first row names the fields (the app's input fields, or <code>message</code> for the chat prompt); a JSONL file has one JSON object per line. Every row is checked against the app's input schema; if any fails, nothing is imported and every bad row is listed.
batch-about = What the inputs are about
batch-about-placeholder = Questions a first-time visitor to Seoul asks
batch-examples = A few example inputs, one JSON object per line
batch-examples-placeholder = {"{"}"message": "How long is the KTX from Seoul to Busan?"{"}"}
batch-count = How many inputs
batch-generate-hint = The model is asked in rounds; proposals that fail the schema or are near-duplicates of an example or of each other (character bigrams, so Korean works too) are dropped.
batch-start = Start the batch
