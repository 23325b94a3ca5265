# Share links (/s/{token}), the "Shared links" page and the landing page's showcase.

share-button = Share
share-link-ready = Anyone with this link can read a snapshot of this conversation as it is now:
share-copy = Copy link

share-page-note = A shared snapshot
share-run-input = The app's input
share-run-app = A run of
share-empty = This snapshot has no finished answers yet.
share-continue = Continue in my own chat
share-continue-help = Copies these messages into a new conversation of yours. Nothing is sent to the model until you write.
share-pin = Pin to showcase
share-unpin = Unpin from showcase

share-list-title = Shared links
share-list-intro = Each link shows a snapshot: messages written after it stay private until you update it. Revoking a link ends it at once.
share-list-none = You have not shared anything yet. Use "Share" in a conversation's Manage menu or under an app's result.
share-list-column-title = Title
share-list-column-link = Link
share-list-column-created = Shared
share-list-column-updated = Updated
share-list-update = Update
share-list-revoke = Revoke
share-list-times-utc = Times are in UTC.

share-showcase-title = See it in action
