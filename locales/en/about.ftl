# The about page (/about) and the footer link to it.

about-footer-link = About this site
about-title = About
about-heading = About { $site }
about-built-by = Built by
about-links = Links
about-figures = Live figures
about-answers = Answers served
about-median-first-token = Median time to the first word
about-median-over = over the latest { $count } answers
about-uptime = Up for
about-apps = Prompt apps
about-figures-note = Read from this running service, and at most { $seconds } seconds old.
about-stack = Built with
about-try = Try it
about-try-chat = Start a chat
about-try-apps = Browse the apps
about-try-api = Read the API docs
about-milliseconds = { $ms } ms
about-uptime-minutes = { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}
about-uptime-hours = { $hours ->
    [one] 1 hour
   *[other] { $hours } hours
} { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}
about-uptime-days = { $days ->
    [one] 1 day
   *[other] { $days } days
} { $hours ->
    [one] 1 hour
   *[other] { $hours } hours
}
