"use strict";
const log = document.getElementById("log");
// The chat's id is all that ties a patient to their conversation: it must not be guessable.
// Only the browser's cryptographic randomness will do (never Math.random, never the time).
function randomId() {
  const c = window.crypto;
  if (c && typeof c.getRandomValues === "function") {
    const bytes = c.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
  }
  if (c && typeof c.randomUUID === "function") return c.randomUUID().replace(/-/g, "");
  return null;
}
const OURS = /^[0-9a-f]{32}$/;  // an id this page made; older pages' may have been guessable
// Kept under the key older pages used, so that a patient's chat goes on after an update.
let chat = localStorage.getItem("guahao-session");
function renew() {
  chat = randomId();
  if (chat) localStorage.setItem("guahao-session", chat);
}
if (!chat || !OURS.test(chat)) renew();
// The server refuses an id of another form (400, reason "new_session"): a new chat, new id.
async function refusedId(answer) {
  if (answer.status !== 400) return false;
  const data = await answer.json().catch(() => ({}));
  if (data.reason !== "new_session") return false;
  renew();
  return true;
}
function show(text, who) {
  const div = document.createElement("div");
  div.className = "msg " + who;
  div.textContent = text;            // never innerHTML: what anyone types stays text
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}
function offer(choices) {
  if (!choices.length) return;
  const row = document.createElement("div");
  row.className = "choices";
  for (const choice of choices) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = choice.label;
    button.dataset.key = choice.key;
    button.addEventListener("click", () => {
      row.querySelectorAll("button").forEach(b => b.disabled = true);
      show(choice.label, "me");
      post({choice: choice.key});
    });
    row.appendChild(button);
  }
  log.appendChild(row);
  log.scrollTop = log.scrollHeight;
}
async function post(body, again = true) {
  const id = randomId();
  try {
    const answer = await fetch("/api/webchat/messages", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({chat, id, ...body})});
    if (again && await refusedId(answer)) return post(body, false);
    if (answer.status === 429) {
      show("消息发得太快了，请稍等片刻再发。 Too many messages at once; please wait a moment.", "bot");
      return;
    }
    if (!answer.ok) throw new Error(answer.status);
    const data = await answer.json();
    for (const reply of data.replies) { show(reply.text, "bot"); offer(reply.choices); }
  } catch (e) {
    show("网络不太稳定，请稍后再试。 The connection failed; please try again.", "bot");
  }
}
function start() {
  document.getElementById("send").addEventListener("submit", event => {
    event.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    show(text, "me");
    post({text});
  });
  document.getElementById("mine").addEventListener("click", () => {
    show("我的预约 / My bookings", "me");
    post({text: "/my"});
  });
  if (!log.children.length) post({text: "/start"});
  // Reminders and news of bookings cannot be pushed to a page: it asks for them now and then.
  async function notices() {
    try {
      const answer = await fetch("/api/webchat/notices?chat=" + encodeURIComponent(chat));
      if (await refusedId(answer)) return;  // asked again later, with the new id
      if (!answer.ok) return;
      for (const reply of (await answer.json()).replies) { show(reply.text, "bot"); offer(reply.choices); }
    } catch (e) { /* offline: asked again later */ }
  }
  setInterval(notices, 15000);
  notices();
}
if (chat) {
  start();
} else {  // no safe way to make an id: say so rather than guess one
  show("此浏览器无法安全地使用预约聊天，请换用较新的浏览器。 This browser cannot run the chat safely; please use a newer browser.", "bot");
  document.querySelectorAll("form input, form button, #mine").forEach(e => e.disabled = true);
}
