// promptship's only script: keyboard sending, the live text of a streaming answer,
// copying an app's JSON result, and the review queue's keys.
// Everything else is htmx; every form also works with JavaScript off.
(() => {
  "use strict";

  const composer = () => document.getElementById("composer");

  // Enter sends, Shift+Enter adds a line. Never while an IME is composing (Korean, Japanese,
  // Chinese): that Enter commits the syllable. Safari ends the composition before its
  // keydown, which then only shows as keyCode 229. Touch keyboards have no Shift+Enter, so
  // there Enter adds a line and the Send button sends.
  const touch = window.matchMedia("(pointer: coarse)").matches;
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (touch) return;
    if (!(box instanceof HTMLTextAreaElement) || box.form !== composer()) return;
    if (event.key !== "Enter" || event.shiftKey) return;
    if (event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (box.value.trim() !== "") box.form.requestSubmit();
  });

  // The message box grows with its text. CSS `field-sizing: content` does it where the
  // browser has it; elsewhere the box is sized to its content here (capped by max-height).
  if (!CSS.supports("field-sizing", "content")) {
    document.addEventListener("input", (event) => {
      const box = event.target;
      if (!(box instanceof HTMLTextAreaElement) || box.form !== composer()) return;
      box.style.height = "auto";
      box.style.height = `${box.scrollHeight + 2}px`;
    });
  }

  // A suggestion on the landing page is sent like a typed message (so it streams); without
  // JavaScript its button posts the form by itself.
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".suggestions button[name=content]");
    const form = composer();
    if (!button || !form) return;
    event.preventDefault();
    form.querySelector("textarea").value = button.value;
    form.requestSubmit();
  });

  // The answer's stream has started: the message is saved, so the box can be emptied.
  document.addEventListener("htmx:sse:after:connection", (event) => {
    const form = composer();
    if (form && event.target === form) {
      const box = form.querySelector("textarea");
      box.value = "";
      box.focus();
    }
    const notice = document.getElementById("notice");
    if (notice) notice.textContent = "";
  });

  // Text as the model writes it: appended as text, never parsed as HTML. The final
  // event replaces it with the server's sanitized Markdown rendering.
  document.addEventListener("delta", (event) => {
    const target = document.querySelector("[data-stream]");
    if (!target) return;
    target.append(JSON.parse(event.detail.data));
    target.scrollIntoView({ block: "end" });
  });

  // The language switcher comes back to the page's new URL, not the one it was loaded at.
  const comeBackTo = (url) => {
    for (const back of document.querySelectorAll(".lang-switch input[name=back]")) back.value = url;
  };

  // A new conversation was created by this message: give the page its URL, and send the
  // next message to it.
  document.addEventListener("conversation", (event) => {
    const url = event.detail.data;
    history.replaceState(null, "", url);
    comeBackTo(url);
    const form = composer();
    if (form) {
      form.setAttribute("hx-post", url + "/messages");
      form.action = url + "/messages";
      const regenerate = form.querySelector(".regenerate");
      regenerate.setAttribute("hx-post", url + "/regenerate");
      regenerate.setAttribute("formaction", url + "/regenerate");
      regenerate.hidden = false;
    }
  });

  // An app's run has started: give the page the run's URL (its result page), and clear
  // the previous notice.
  document.addEventListener("run", (event) => {
    history.replaceState(null, "", event.detail.data);
    comeBackTo(event.detail.data);
    const notice = document.getElementById("notice");
    if (notice) notice.textContent = "";
  });

  // "Copy JSON" on a structured result: shown only where it can work.
  const showCopyButtons = () => {
    if (!navigator.clipboard) return;
    for (const button of document.querySelectorAll("button[data-copy][hidden]")) {
      button.hidden = false;
    }
  };
  document.addEventListener("DOMContentLoaded", showCopyButtons);
  document.addEventListener("htmx:after:swap", showCopyButtons);
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    await navigator.clipboard.writeText(source.textContent);
    const label = button.textContent;
    // The page gives the word in its language.
    button.textContent = button.dataset.copied || "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });

  document.addEventListener("reload", () => location.reload());

  // The review pages' keys (each page's hint line lists them). A key presses the button,
  // or focuses the field, that carries it as its `accesskey` (the no-JS fallback); never
  // while typing in a field, during IME composition, or with a modifier held.
  document.addEventListener("keydown", (event) => {
    const page = document.querySelector("[data-review-item], [data-review-list]");
    if (!page || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    if (!/^[a-z1-9]$/.test(event.key)) return;
    const reason = document.querySelector(`#reject[open] [data-digit="${event.key}"]`);
    const links = [...page.querySelectorAll("a.review-link")];
    let control = reason || page.querySelector(`[accesskey="${event.key}"]`);
    if (links.length && (event.key === "j" || event.key === "k")) {
      const at = links.indexOf(document.activeElement);
      const to = event.key === "j" ? at + 1 : Math.max(at - 1, 0);
      control = links[Math.min(to, links.length - 1)];
      control.focus();
      control = null;
      event.preventDefault();
    }
    if (!control) return;
    event.preventDefault();
    if (control.matches("textarea")) {
      control.focus();
    } else if (control.matches("summary")) {
      control.parentElement.open = true;
      control.parentElement.querySelector("button").focus();
    } else {
      control.click();
    }
  });

  // In the review's edit box, Ctrl+Enter (⌘+Enter) saves the edit and Escape leaves the
  // box, so the keys work again.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.closest("[data-review-item]")) return;
    if (event.isComposing) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      box.form.requestSubmit();
    } else if (event.key === "Escape") {
      box.blur();
    }
  });
})();
