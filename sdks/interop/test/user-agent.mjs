// A person at a browser without JavaScript, over plain HTTP with a cookie jar: opens an
// authorization URL, signs in on Gatehouse's /login when asked, approves (or denies) on the
// consent page, and returns the URL Gatehouse finally sends the browser to outside its own
// origin (the client's redirect URI), without following it.

const decode = (s) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (m, e) => {
    const k = e.toLowerCase();
    if (k === 'amp') return '&';
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    if (k === 'quot') return '"';
    if (k === 'apos' || k === '#39') return "'";
    if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(parseInt(k.slice(1), 10));
    return m;
  });

function attrs(s) {
  const out = {};
  for (const m of s.matchAll(/([a-z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

export class OAuthUser {
  constructor(gatehouseURL, { email, password, decision = 'allow' }) {
    this.origin = new URL(gatehouseURL).origin;
    this.email = email;
    this.password = password;
    this.decision = decision;
    this.cookies = new Map();
    /** The HTML of every page shown, in order. */
    this.pages = [];
  }

  /** Walks from the authorization URL to the redirect out of Gatehouse; returns that URL. */
  async authorize(authorizationURL) {
    let method = 'GET';
    let target = new URL(authorizationURL);
    let form;
    for (let step = 0; step < 12; step++) {
      if (target.origin !== this.origin) return target;
      const headers = { Accept: 'text/html' };
      if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      if (form) {
        // What a browser adds to a same-origin form post.
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers.Origin = this.origin;
        headers['Sec-Fetch-Site'] = 'same-origin';
      }
      const res = await fetch(target, { method, headers, body: form?.toString(), redirect: 'manual' });
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...rest] = c.split(';');
        const i = pair.indexOf('=');
        const name = pair.slice(0, i).trim();
        const expired = rest.some((a) => /^\s*max-age\s*=\s*(0|-)/i.test(a));
        if (expired) this.cookies.delete(name);
        else this.cookies.set(name, pair.slice(i + 1).trim());
      }
      const page = await res.text();
      if (res.status >= 300 && res.status < 400) {
        const loc = res.headers.get('location');
        if (!loc) throw new Error(`${method} ${target}: ${res.status} without Location`);
        method = 'GET';
        target = new URL(loc, target);
        form = undefined;
        continue;
      }
      if (res.status !== 200) throw new Error(`${method} ${target}: status ${res.status}: ${page.slice(0, 600)}`);
      this.pages.push(page);
      const f = this.#chooseForm(page);
      if (!f) throw new Error(`${method} ${target}: a page with neither a sign-in nor a consent form: ${page.slice(0, 1200)}`);
      const action = new URL(f.action || target.href, target);
      method = (f.method || 'GET').toUpperCase();
      if (method === 'GET') {
        action.search = f.values.toString();
        form = undefined;
      } else {
        form = f.values;
      }
      target = action;
    }
    throw new Error(`no redirect to the client after 12 steps from ${authorizationURL}`);
  }

  #chooseForm(page) {
    for (const fm of page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
      const fa = attrs(fm[1]);
      const values = new URLSearchParams();
      let login = false;
      let consent = false;
      for (const m of fm[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
        const a = attrs(m[2]);
        const name = a.name;
        if (!name || /\sdisabled\b/i.test(m[2])) continue;
        const type = (a.type || '').toLowerCase();
        if (m[1].toLowerCase() === 'button' || type === 'submit') {
          if (name === 'decision') {
            consent = true;
            if (a.value === this.decision) values.set(name, a.value);
          }
        } else if (type === 'password') {
          login = true;
          values.set(name, this.password);
        } else if (name === 'email') {
          values.set(name, this.email);
        } else if (type === 'checkbox' || type === 'radio') {
          if (/\schecked\b/i.test(m[2])) values.append(name, a.value ?? 'on');
        } else {
          values.append(name, a.value ?? '');
        }
      }
      if (login || (consent && values.get('decision'))) return { action: fa.action, method: fa.method, values };
    }
    return undefined;
  }
}
