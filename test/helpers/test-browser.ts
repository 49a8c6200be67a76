/**
 * Just enough of a browser for SAML round trips over HTTP: a cookie jar (cookies are per host,
 * not per port, as in browsers; Path is honoured), redirects followed by hand (so cookies set on
 * every hop are kept), and HTML forms read and submitted as a person (or an auto-submit script)
 * would. No JavaScript runs: the auto-posting pages of the HTTP-POST binding are submitted by
 * `submit()`, as their no-script button would be.
 */

interface StoredCookie {
  value: string;
  path: string;
}

export interface Page {
  url: string;
  status: number;
  body: string;
  headers: Headers;
  /** Every URL visited on the way (redirects included). */
  trail: string[];
}

export interface Form {
  action: string;
  method: string;
  fields: Record<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

export function decodeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z0-9#]+);/gi, (m, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#') && /^#\d+$/.test(e)) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** The first form of a page (or the one whose fields include `withField`), with its inputs. */
export function readForm(page: Page, withField?: string): Form {
  const forms = [...page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  for (const [, attrs, inner] of forms) {
    const fields: Record<string, string> = {};
    for (const [input] of inner!.matchAll(/<input\b[^>]*>/gi)) {
      const name = /\bname="([^"]*)"/i.exec(input)?.[1];
      if (!name) continue;
      fields[decodeHtml(name)] = decodeHtml(/\bvalue="([^"]*)"/i.exec(input)?.[1] ?? '');
    }
    if (withField && !(withField in fields)) continue;
    const action = decodeHtml(/\baction="([^"]*)"/i.exec(attrs!)?.[1] ?? '');
    return { action: new URL(action || page.url, page.url).toString(), method: (/\bmethod="([^"]*)"/i.exec(attrs!)?.[1] ?? 'get').toLowerCase(), fields };
  }
  throw new Error(`no form${withField ? ` with a ${withField} field` : ''} at ${page.url} (HTTP ${page.status}):\n${page.body.slice(0, 1500)}`);
}

export class TestBrowser {
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  private cookieHeader(url: URL): string {
    const cookies = this.jar.get(url.hostname);
    if (!cookies) return '';
    return [...cookies.entries()]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private remember(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const pathAttr = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='));
      const expired = attributes.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a)) || attributes.some((a) => /^\s*max-age=0\b/i.test(a));
      let cookies = this.jar.get(url.hostname);
      if (!cookies) this.jar.set(url.hostname, (cookies = new Map()));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, { value, path: pathAttr ? pathAttr.slice(5) : '/' });
    }
  }

  /** Requests a URL and follows redirects like a browser (303, and 301/302 after POST, become GET). */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const trail: string[] = [];
    let current = new URL(url);
    let method = (init.method ?? 'GET').toUpperCase();
    let body: URLSearchParams | undefined = init.form ? new URLSearchParams(init.form) : undefined;
    for (let hops = 0; hops < 20; hops++) {
      trail.push(current.toString());
      const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', 'user-agent': 'gatehouse-test-browser' };
      const cookie = this.cookieHeader(current);
      if (cookie) headers.cookie = cookie;
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(current, { method, headers, body, redirect: 'manual' });
      this.remember(current, res.headers);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        current = new URL(location, current);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return { url: current.toString(), status: res.status, body: await res.text(), headers: res.headers, trail };
    }
    throw new Error(`too many redirects from ${url}: ${trail.join(' -> ')}`);
  }

  /** Submits a form with some fields filled in. */
  submit(form: Form, fill: Record<string, string> = {}): Promise<Page> {
    const fields = { ...form.fields, ...fill };
    if (form.method === 'post') return this.request(form.action, { method: 'POST', form: fields });
    const target = new URL(form.action);
    for (const [k, v] of Object.entries(fields)) target.searchParams.set(k, v);
    return this.request(target.toString());
  }
}
