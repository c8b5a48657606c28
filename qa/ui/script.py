"""The chat's script in the browser (run once per page load): each new reply scrolled to the top of
the chat panel, messages labelled with their plain text for screen readers, and a copied message
copied as plain text.

Gradio's Chatbot scrolls to the bottom of each reply (autoscroll, turned off in the app), labels a
message with its content and copies its content: for our replies that is their HTML source. Each
reply carries its plain text in a hidden `.qa-copy` element (qa/ui/chat.py); the copy is parsed with
DOMParser, whose documents run no script and load no image, so article markup stays inert.
"""

from __future__ import annotations

CHAT_JS = r"""
() => {
  if (window.__qaChat) return;
  window.__qaChat = true;
  const MARKUP = /class="qa-(reply|question|copy)/;
  const textOf = (element) => {
    const clone = element.cloneNode(true);
    clone.querySelectorAll("br").forEach((br) => br.replaceWith("\n"));
    return clone.textContent;
  };
  // A message's HTML -> its plain text: a reply's hidden .qa-copy, a question's own text.
  const plainOf = (text) => {
    if (typeof text !== "string" || !MARKUP.test(text)) return text;
    const doc = new DOMParser().parseFromString(text, "text/html");
    doc.querySelectorAll(".qa-reply").forEach((reply) => {
      const copy = reply.querySelector(".qa-copy");
      reply.replaceWith(doc.createTextNode(copy ? textOf(copy) : textOf(reply)));
    });
    doc.querySelectorAll(".qa-question").forEach((q) => q.replaceWith(doc.createTextNode(textOf(q))));
    return doc.body.textContent;
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(plainOf(text));
  }
  // Without a secure context Gradio copies through a hidden textarea and execCommand("copy").
  document.addEventListener("copy", (event) => {
    const active = document.activeElement;
    if (active && active.tagName === "TEXTAREA" && MARKUP.test(active.value)) {
      event.clipboardData.setData("text/plain", plainOf(active.value));
      event.preventDefault();
    }
  }, true);

  const labelled = new WeakMap();
  const label = (chat) => {
    chat.querySelectorAll("[aria-label*='message: ']").forEach((message) => {
      const current = message.getAttribute("aria-label");
      if (labelled.get(message) === current) return;
      const reply = message.querySelector(".qa-copy");
      const question = message.querySelector(".qa-question");
      if (!reply && !question) return;
      const prefix = current.slice(0, current.indexOf("message: ") + "message: ".length);
      const text = prefix + textOf(reply || question).replace(/\s*\n\s*/g, " ").trim();
      labelled.set(message, text);
      message.setAttribute("aria-label", text);
    });
  };
  const scroller = (element) => {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
    }
    return null;
  };
  let replies = 0, questions = 0;
  const follow = (chat) => {
    const replyList = chat.querySelectorAll(".message-row .qa-reply");
    const questionList = chat.querySelectorAll(".message-row .qa-question");
    if (replyList.length > replies && replyList.length >= questionList.length) {
      // A new reply: its first line (the answer) at the top of the panel.
      const reply = replyList[replyList.length - 1];
      const panel = scroller(reply);
      if (panel) {
        const offset = reply.getBoundingClientRect().top - panel.getBoundingClientRect().top;
        panel.scrollTop += offset - 8;
        // On a phone the page scrolls too (to keep the question box in view): the panel's top on screen.
        if (panel.getBoundingClientRect().top < 0) panel.scrollIntoView({ block: "start" });
      }
    } else if (questionList.length > questions) {
      // A new question: in view while its answer is worked out.
      const panel = scroller(questionList[questionList.length - 1]);
      if (panel) panel.scrollTop = panel.scrollHeight;
    }
    replies = replyList.length;
    questions = questionList.length;
  };
  const watch = () => {
    const chat = document.getElementById("qa-chat");
    if (!chat) return setTimeout(watch, 200);
    let pending = false;
    new MutationObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        label(chat);
        follow(chat);
      });
    }).observe(chat, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label"] });
  };
  watch();
}
"""
