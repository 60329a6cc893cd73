// The demo's shared shell: who is logged in, the realtime connection and its indicator, toasts
// for msgprint and the progress bar. Pages call Demo.start() and get { boot, realtime }.
(() => {
  const $ = (selector) => document.querySelector(selector);

  function escapeHtml(text) {
    return String(text).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  }

  async function api(path, options = {}) {
    const res = await fetch(path, {
      credentials: 'same-origin',
      ...options,
      headers: { 'content-type': 'application/json', ...(options.headers || {}) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) location.href = '/login';
    if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
    return body;
  }

  function toast(title, message) {
    const el = document.createElement('div');
    el.className = 'toast';
    el.innerHTML = `${title ? `<b>${escapeHtml(title)}</b>` : ''}${escapeHtml(message)}`;
    $('#toasts').append(el);
    setTimeout(() => el.remove(), 6000);
  }

  function header(boot) {
    const el = document.createElement('header');
    el.innerHTML = `<a class="brand" href="/app/todo" style="color:inherit;text-decoration:none">Herald demo</a>
      <span class="site">${escapeHtml(boot.site)}</span><span class="spacer"></span>
      <span class="status" id="connection" data-state="connecting">connecting</span>
      <span class="muted" id="whoami">${escapeHtml(boot.full_name)} (${escapeHtml(boot.user_type)})</span>
      <button id="logout" type="button">Log out</button>`;
    document.body.prepend(el);
    const toasts = document.createElement('div');
    toasts.id = 'toasts';
    document.body.append(toasts);
    $('#logout').addEventListener('click', async () => {
      await api('/api/method/logout', { method: 'POST' });
      location.href = '/login';
    });
  }

  function showStatus(state) {
    const el = $('#connection');
    el.dataset.state = state;
    el.textContent = state;
  }

  async function start() {
    const boot = (await api('/api/method/demo.boot')).message;
    if (boot.user === 'Guest') {
      location.href = '/login';
      return new Promise(() => {});
    }
    header(boot);
    const realtime = HeraldRealtime.createRealtime({
      url: location.origin,
      site: boot.site,
      withCredentials: true,
    });
    showStatus(realtime.status.get());
    realtime.status.subscribe(showStatus);
    realtime.on('msgprint', (data) => {
      const message = typeof data === 'string' ? data : data.message;
      toast(typeof data === 'object' && data.title ? data.title : 'Message', message);
    });
    realtime.on('progress', (data) => {
      const bar = $('#progress');
      if (!bar) return;
      const percent =
        data.percent ?? (data.progress ? (data.progress[0] / data.progress[1]) * 100 : 0);
      bar.hidden = false;
      bar.querySelector('.progress > div').style.width = `${percent}%`;
      bar.querySelector('.progress-text').textContent =
        `${data.title || 'Working'}: ${data.description || ''} (${Math.round(percent)}%)`;
      bar.dataset.percent = String(Math.round(percent));
    });
    window.realtime = realtime;
    return { boot, realtime };
  }

  /** Runs `fn` at most once per `ms`, however often it is asked (trailing call kept). */
  function coalesce(fn, ms) {
    let last = 0;
    let timer = null;
    return () => {
      if (timer) return;
      const wait = Math.max(0, last + ms - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    };
  }

  window.Demo = { start, api, toast, escapeHtml, coalesce, $ };
})();
