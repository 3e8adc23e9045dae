// The sandbox page: a Telegram-like client for several personas at once.
//
// One long-poll loop keeps the page in step with the server (GET /api/state waits until
// something changes); every action is a small POST, and its visible result arrives
// through that same loop, exactly as a reply arrives in Telegram. Bot text reaches the
// DOM only through createElement/createTextNode from the server's sanitized tree.
(function () {
  "use strict";

  const STRINGS = {
    en: {
      tagline: "sandbox · a local stand-in for Telegram",
      actAs: "Act as",
      citizen: "citizen",
      admin: "administrator",
      newName: "New citizen",
      add: "Add",
      reset: "Reset sandbox",
      resetConfirm: "Erase every chat and the sandbox database and start over?",
      placeholder: "Write a message…",
      send: "Send",
      menu: "Commands",
      personas: "Switch persona",
      empty: "No messages yet. Send /start to begin.",
      edited: "edited",
      offline: "Reconnecting…",
      you: "You are",
      gone: "That button is no longer there.",
      download: "Download",
    },
    ru: {
      tagline: "песочница · локальная замена Telegram",
      actAs: "Действовать как",
      citizen: "житель",
      admin: "администратор",
      newName: "Новый житель",
      add: "Добавить",
      reset: "Сбросить песочницу",
      resetConfirm: "Стереть все чаты и базу песочницы и начать заново?",
      placeholder: "Напишите сообщение…",
      send: "Отправить",
      menu: "Команды",
      personas: "Сменить персонажа",
      empty: "Сообщений пока нет. Отправьте /start, чтобы начать.",
      edited: "изменено",
      offline: "Переподключение…",
      you: "Вы —",
      gone: "Этой кнопки уже нет.",
      download: "Скачать",
    },
  };

  const TAGS = {
    b: "strong", i: "em", u: "u", s: "s", code: "code", pre: "pre",
    blockquote: "blockquote", spoiler: "span", a: "a",
  };

  const $ = (selector) => document.querySelector(selector);
  const view = {
    session: null,
    revision: null,
    chat: Number(new URLSearchParams(location.hash.slice(1)).get("chat")) || null,
    language: "en",
    seen: JSON.parse(sessionStorage.getItem("civicpulse-seen") || "{}"),
    messageCache: new Map(),
    renderedChat: null,
    poll: null,
  };

  function t(key) {
    return (STRINGS[view.language] || STRINGS.en)[key] || STRINGS.en[key] || key;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- server ----------------------------------------------------------------------------

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function loop() {
    for (;;) {
      const controller = new AbortController();
      view.poll = controller;
      const query = new URLSearchParams();
      if (view.chat) query.set("chat", view.chat);
      if (view.session !== null && view.revision !== null) {
        query.set("session", view.session);
        query.set("since", view.revision);
      }
      try {
        const response = await fetch("/api/state?" + query, { signal: controller.signal });
        if (!response.ok) throw new Error(response.statusText);
        render(await response.json());
        $("#connection").hidden = true;
      } catch (error) {
        if (controller.signal.aborted) continue; // a persona switch wants fresh state
        $("#connection").hidden = false;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** Drop the waiting long poll so the next request reflects a new choice at once. */
  function refresh() {
    view.revision = null;
    if (view.poll) view.poll.abort();
  }

  // -- rendering ---------------------------------------------------------------------------

  function render(state) {
    view.session = state.session;
    view.revision = state.revision;
    if (state.language !== view.language) {
      view.language = state.language;
      translatePage();
    }
    $("#bot-name").textContent = state.bot.name;
    $("#bot-username").textContent = state.bot.username ? "@" + state.bot.username : "";
    if (!view.chat || !state.personas.some((p) => p.id === view.chat)) {
      view.chat = state.personas.length ? state.personas[0].id : null;
      if (view.chat) { refresh(); return; }
    }
    const persona = state.personas.find((p) => p.id === view.chat);
    if (persona) view.seen[persona.id] = persona.bot_messages;
    sessionStorage.setItem("civicpulse-seen", JSON.stringify(view.seen));
    renderPersonas(state.personas);
    renderActingAs(persona);
    if (state.chat && state.chat.id === view.chat) {
      renderMessages(state.chat);
      renderReplyKeyboard(state.chat.reply_keyboard);
    }
    renderMenu(state.commands);
  }

  function translatePage() {
    document.documentElement.lang = view.language;
    document.querySelectorAll("[data-text]").forEach((node) => {
      node.textContent = t(node.dataset.text);
    });
    document.querySelectorAll("[data-placeholder]").forEach((node) => {
      node.placeholder = t(node.dataset.placeholder);
    });
    document.querySelectorAll("[data-title]").forEach((node) => {
      node.title = t(node.dataset.title);
      node.setAttribute("aria-label", node.title); // an icon button's name
    });
  }

  function avatar(persona) {
    const node = el("span", "avatar", (persona.name || "?").trim().charAt(0).toUpperCase());
    node.style.setProperty("--hue", String((persona.id * 47) % 360));
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  function renderPersonas(personas) {
    let unreadElsewhere = 0;
    const items = personas.map((persona) => {
      const item = el("button", "persona");
      item.type = "button";
      item.dataset.persona = persona.id;
      item.setAttribute("aria-pressed", String(persona.id === view.chat));
      const body = el("span", "persona-body");
      const top = el("span", "persona-top");
      top.append(el("span", "persona-name", persona.name));
      if (persona.role === "admin") top.append(el("span", "badge role", t("admin")));
      body.append(top, el("span", "persona-preview", persona.preview || "\u00a0"));
      item.append(avatar(persona), body);
      const unread = persona.bot_messages - (view.seen[persona.id] || 0);
      if (persona.id !== view.chat && unread > 0) {
        item.append(el("span", "badge unread", unread));
        unreadElsewhere += unread;
      }
      item.addEventListener("click", () => selectPersona(persona.id));
      return item;
    });
    $("#personas").replaceChildren(...items);
    // On a phone the list is in a closed drawer: its button says that other chats moved.
    $("#drawer-unread").hidden = unreadElsewhere === 0;
    $("#drawer-unread").textContent = unreadElsewhere;
  }

  function renderActingAs(persona) {
    const box = $("#acting-as");
    if (!persona) { box.replaceChildren(); return; }
    box.replaceChildren(
      el("span", "acting-label", t("you")),
      avatar(persona),
      el("strong", null, persona.name),
      el("span", "badge role", t(persona.role)),
    );
  }

  function renderMessages(chat) {
    const list = $("#messages");
    const switched = view.renderedChat !== chat.id;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const lastBefore = list.lastElementChild && list.lastElementChild.dataset.key;
    if (switched) view.messageCache.clear();
    const fresh = new Map();
    const nodes = chat.messages.map((message) => {
      const key = JSON.stringify(message);
      const cached = view.messageCache.get(message.id);
      const node = cached && cached.key === key ? cached.node : renderMessage(message, chat.id);
      node.dataset.key = message.id + ":" + message.edited + ":" + key.length;
      fresh.set(message.id, { key, node });
      return node;
    });
    view.messageCache = fresh;
    if (!nodes.length) nodes.push(el("p", "empty", t("empty")));
    list.replaceChildren(...nodes);
    view.renderedChat = chat.id;
    const lastAfter = list.lastElementChild && list.lastElementChild.dataset.key;
    if (switched || atBottom || lastAfter !== lastBefore) list.scrollTop = list.scrollHeight;
  }

  function renderMessage(message, chatId) {
    const node = el("article", "msg " + (message.from_bot ? "bot" : "user"));
    node.dataset.messageId = message.id;
    const bubble = el("div", "bubble");
    if (message.photo) {
      const image = el("img", "photo");
      image.src = message.photo.url;
      image.alt = message.photo.name;
      image.loading = "lazy";
      bubble.append(image);
    }
    if (message.document) bubble.append(renderDocument(message.document));
    if (message.text.length) bubble.append(renderRich(message.text, el("div", "text")));
    if (message.caption.length) bubble.append(renderRich(message.caption, el("div", "text")));
    const meta = el("div", "meta");
    if (message.edited) meta.append(el("span", "edited", t("edited")));
    meta.append(el("time", null, message.time)); // in the bot's TIMEZONE, as its texts are
    bubble.append(meta);
    node.append(bubble);
    if (message.keyboard.length) node.append(renderKeyboard(message, chatId));
    return node;
  }

  function renderDocument(file) {
    const link = el("a", "document");
    link.href = file.url;
    link.download = file.name;
    link.append(
      el("span", "document-icon", "⬇"),
      el("span", "document-name", file.name),
      el("span", "document-size", size(file.size)),
    );
    link.title = t("download");
    return link;
  }

  function renderRich(nodes, parent) {
    for (const node of nodes) {
      if (typeof node === "string") {
        parent.append(document.createTextNode(node));
        continue;
      }
      const child = document.createElement(TAGS[node.tag] || "span");
      if (node.tag === "spoiler") {
        child.className = "spoiler";
        child.addEventListener("click", () => child.classList.add("revealed"));
      }
      if (node.tag === "a" && node.href) {
        child.href = node.href;
        child.target = "_blank";
        child.rel = "noopener noreferrer";
      }
      renderRich(node.children || [], child);
      parent.append(child);
    }
    return parent;
  }

  function renderKeyboard(message, chatId) {
    const keyboard = el("div", "keyboard");
    for (const row of message.keyboard) {
      const line = el("div", "kb-row");
      for (const button of row) {
        if (button.url) {
          const link = el("a", "kb kb-url", button.text);
          link.href = button.url;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          line.append(link);
          continue;
        }
        const key = el("button", "kb", button.text);
        key.type = "button";
        key.disabled = button.data === undefined;
        key.addEventListener("click", () => press(chatId, message.id, button.data, key));
        line.append(key);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function renderReplyKeyboard(rows) {
    const box = $("#reply-keyboard");
    box.hidden = !rows || !rows.length;
    box.replaceChildren(...(rows || []).map((row) => {
      const line = el("div", "kb-row");
      for (const text of row) {
        const key = el("button", "kb", text);
        key.type = "button";
        key.addEventListener("click", () => send(text));
        line.append(key);
      }
      return line;
    }));
  }

  function renderMenu(commands) {
    const menu = $("#menu");
    $("#menu-button").hidden = !commands.length;
    if (!commands.length) menu.hidden = true;
    menu.replaceChildren(...commands.map((command) => {
      const item = el("button", "menu-item");
      item.type = "button";
      item.append(el("code", null, "/" + command.command), el("span", null, command.description));
      item.addEventListener("click", () => { menu.hidden = true; send("/" + command.command); });
      return item;
    }));
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  // -- actions ------------------------------------------------------------------------------

  /** Open or close the personas drawer (narrow screens; on wide ones the list is always shown). */
  function showDrawer(open) {
    const toggle = $("#drawer-toggle");
    document.querySelector(".app").classList.toggle("drawer-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    $("#backdrop").hidden = !open;
    if (open) {
      ($("#personas [aria-pressed=true]") || $("#add-persona input")).focus();
    } else if ($("#sidebar").contains(document.activeElement)) {
      toggle.focus();
    }
  }

  function selectPersona(id) {
    showDrawer(false);
    if (id === view.chat) return;
    view.chat = id;
    history.replaceState(null, "", "#chat=" + id);
    $("#menu").hidden = true;
    refresh();
  }

  async function send(text) {
    if (!view.chat || !text.trim()) return;
    try {
      await api(`/api/chats/${view.chat}/messages`, { text });
    } catch (error) {
      toast(error.message);
    }
  }

  async function press(chatId, messageId, data, key) {
    key.disabled = true;
    key.classList.add("pending");
    try {
      const result = await api(`/api/chats/${chatId}/press`, { message_id: messageId, data });
      const answer = result.answer;
      if (answer && answer.text) {
        if (answer.show_alert) showAlert(answer.text); else toast(answer.text);
      }
    } catch (error) {
      toast(error.status === 409 ? t("gone") : error.message);
      refresh();
    } finally {
      key.classList.remove("pending");
      key.disabled = false;
    }
  }

  let toastTimer = null;
  function toast(text) {
    const box = $("#toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 3000);
  }

  function showAlert(text) {
    $("#alert-text").textContent = text;
    $("#alert").showModal();
  }

  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#text");
    const text = input.value;
    input.value = "";
    send(text);
  });

  $("#menu-button").addEventListener("click", () => { $("#menu").hidden = !$("#menu").hidden; });

  $("#drawer-toggle").addEventListener("click", () => {
    showDrawer($("#drawer-toggle").getAttribute("aria-expanded") !== "true");
  });
  $("#backdrop").addEventListener("click", () => showDrawer(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("#backdrop").hidden) showDrawer(false);
  });

  $("#add-persona").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = event.target.elements.name;
    try {
      const persona = await api("/api/personas", { name: input.value });
      input.value = "";
      selectPersona(persona.id);
    } catch (error) {
      toast(error.message);
    }
  });

  $("#reset").addEventListener("click", async () => {
    if (!confirm(t("resetConfirm"))) return;
    const button = $("#reset");
    button.disabled = true;
    try {
      await api("/api/reset", {});
      view.seen = {};
      refresh();
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });

  translatePage();
  loop();
})();
