/**
 * The run-time URL zoo: one page per browser API a script can load or navigate with, each building an
 * origin URL while it runs (hosts assembled from pieces, so no server-side rule can see them). Served
 * by the test origin (routeZoo); tests/e2e/zoo.test.ts runs every case behind the simulated firewall
 * with the shim off, on, and in strict mode.
 */

export interface ZooCase {
  id: string;
  /** What the case exercises, for the results table. */
  api: string;
  /** Which origin serves the page: www (mirror path /gb/zoo/ID.htm) or i (mounted: /_i/zoo/ID.htm). */
  host: 'www' | 'i';
  /** The case's script. `W`/`I` are protocol-relative origin URLs built from pieces, `WS` the https: one, `out` a div. */
  code: string;
  /** Extra markup before the script. */
  markup?: string;
  /** Success: a mirror path that answered 2xx/3xx, or (`url:`) the page's own path afterwards. */
  target: string;
  /** The shim says it maps this case. */
  claimed: boolean;
  /** The server already rewrites what the script reads (a whole-URL <option value>): it loads with the shim off too. */
  serverSide?: boolean;
  /** A top-level navigation: no CSP directive governs those (navigate-to never shipped), only the shim does. */
  navigation?: boolean;
}

const img = (id: string) => `/_i/assets/zoo-${id}.jpg`;

export const ZOO_CASES: ZooCase[] = [
  { id: 'fetch-string', api: 'fetch(string)', host: 'www', code: `fetch(W + '/gb/zoo/data-fetch-string.json')`, target: '/gb/zoo/data-fetch-string.json', claimed: true },
  { id: 'fetch-url', api: 'fetch(URL)', host: 'www', code: `fetch(new URL(WS + '/gb/zoo/data-fetch-url.json'))`, target: '/gb/zoo/data-fetch-url.json', claimed: true },
  { id: 'fetch-request', api: 'fetch(Request)', host: 'www', code: `fetch(new Request(WS + '/gb/zoo/data-fetch-request.json'))`, target: '/gb/zoo/data-fetch-request.json', claimed: true },
  { id: 'xhr', api: 'XMLHttpRequest.open', host: 'www', code: `var x = new XMLHttpRequest(); x.open('GET', W + '/gb/zoo/data-xhr.json'); x.send()`, target: '/gb/zoo/data-xhr.json', claimed: true },
  { id: 'beacon', api: 'navigator.sendBeacon', host: 'www', code: `navigator.sendBeacon(W + '/gb/zoo/beacon-beacon', 'x=1')`, target: '/gb/zoo/beacon-beacon', claimed: true },
  {
    id: 'eventsource',
    api: 'EventSource',
    host: 'www',
    code: `var es = new EventSource(W + '/gb/zoo/events-eventsource'); es.onmessage = es.onerror = function () { es.close() }`,
    target: '/gb/zoo/events-eventsource',
    claimed: true,
  },
  { id: 'img-src', api: 'img.src (host from pieces)', host: 'www', code: `var i = document.createElement('img'); i.src = I + '/assets/zoo-img-src.jpg'; out.appendChild(i)`, target: img('img-src'), claimed: true },
  { id: 'srcset', api: 'img.srcset', host: 'www', code: `var i = document.createElement('img'); i.srcset = I + '/assets/zoo-srcset.jpg 1x'; out.appendChild(i)`, target: img('srcset'), claimed: true },
  { id: 'setattribute', api: 'setAttribute("src")', host: 'www', code: `var i = document.createElement('img'); i.setAttribute('src', I + '/assets/zoo-setattribute.jpg'); out.appendChild(i)`, target: img('setattribute'), claimed: true },
  { id: 'innerhtml', api: 'innerHTML', host: 'www', code: `out.innerHTML = '<img src="' + I + '/assets/zoo-innerhtml.jpg">'`, target: img('innerhtml'), claimed: true },
  { id: 'insertadjacenthtml', api: 'insertAdjacentHTML', host: 'www', code: `out.insertAdjacentHTML('beforeend', '<img src="' + I + '/assets/zoo-insertadjacenthtml.jpg">')`, target: img('insertadjacenthtml'), claimed: true },
  { id: 'document-write', api: 'document.write', host: 'www', code: `document.write('<img src="' + I + '/assets/zoo-document-write.jpg">')`, target: img('document-write'), claimed: true },
  { id: 'script', api: 'appended <script src>', host: 'www', code: `var s = document.createElement('script'); s.src = W + '/gb/zoo/script-script.js'; document.head.appendChild(s)`, target: '/gb/zoo/script-script.js', claimed: true },
  { id: 'new-image', api: 'new Image()', host: 'www', code: `new Image().src = I + '/assets/zoo-new-image.jpg'`, target: img('new-image'), claimed: true },
  { id: 'background', api: 'style.backgroundImage', host: 'www', code: `out.style.height = '10px'; out.style.backgroundImage = 'url(' + I + '/assets/zoo-background.jpg)'`, target: img('background'), claimed: true },
  { id: 'window-open', api: 'window.open', host: 'www', code: `window.open(W + '/gb/zoo/landing-window-open.htm')`, target: '/gb/zoo/landing-window-open.htm', claimed: true, navigation: true },
  {
    id: 'option-open',
    api: 'window.open(option.value) (home page)',
    host: 'www',
    markup: `<select id="s"><option value="http://epochtimes.com/gb/zoo/landing-option-open.htm">大纪元</option></select>`,
    code: `window.open(document.getElementById('s').options[0].value)`,
    target: '/gb/zoo/landing-option-open.htm',
    claimed: true, navigation: true, serverSide: true,
  },
  { id: 'location', api: 'location.href =', host: 'www', code: `setTimeout(function () { location.href = W + '/gb/zoo/landing-location.htm' }, 50)`, target: '/gb/zoo/landing-location.htm', claimed: true, navigation: true },
  {
    id: 'click',
    api: 'click on a JS-built link',
    host: 'www',
    code: `var a = document.createElement('a'); a.href = W + '/gb/zoo/landing-click.htm'; a.textContent = 'go'; out.appendChild(a); a.click()`,
    target: '/gb/zoo/landing-click.htm',
    claimed: true, navigation: true,
  },
  { id: 'pushstate', api: 'history.pushState(absolute origin URL)', host: 'www', code: `history.pushState({}, '', WS + '/gb/zoo/pushed.htm')`, target: 'url:/gb/zoo/pushed.htm', claimed: true },
  { id: 'iframe', api: 'iframe.src', host: 'www', code: `var f = document.createElement('iframe'); f.src = W + '/gb/zoo/landing-iframe.htm'; out.appendChild(f)`, target: '/gb/zoo/landing-iframe.htm', claimed: true },
  {
    id: 'mounted-rootrel',
    api: 'root-relative URL built in a /_i/ page',
    host: 'i',
    code: `var i = document.createElement('img'); i.src = '/assets/zoo-mounted-rootrel.jpg'; out.appendChild(i)`,
    target: img('mounted-rootrel'),
    claimed: true,
  },
  { id: 'import', api: 'dynamic import()', host: 'www', code: `import(WS + '/gb/zoo/module-import.js').catch(function () {})`, target: '/gb/zoo/module-import.js', claimed: false },
  {
    id: 'prepatched-fetch',
    api: 'fetch wrapped and frozen by the page',
    host: 'www',
    code: `var f0 = window.fetch; window.fetch = function (u, o) { return f0.call(this, u, o) }; Object.freeze(window.fetch); fetch(W + '/gb/zoo/data-prepatched-fetch.json')`,
    target: '/gb/zoo/data-prepatched-fetch.json',
    claimed: true,
  },
];

/** The mirror path of a case's page. */
export function zooPagePath(c: ZooCase): string {
  return c.host === 'i' ? `/_i/zoo/${c.id}.htm` : `/gb/zoo/${c.id}.htm`;
}

function page(c: ZooCase): string {
  // The origin hosts are assembled at run time: no literal for the server's rewriting to find.
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>zoo: ${c.id}</title></head><body><h1>${c.id}</h1>${c.markup ?? ''}<div id="out"></div>
<script>
var W = '//www.' + 'epochtimes' + '.com', I = '//i.' + 'epochtimes' + '.com', WS = 'https:' + W, out = document.getElementById('out');
${c.code};
</script></body></html>
`;
}

/** The zoo's answers on the test origin, or null when the path is not the zoo's. */
export function routeZoo(host: 'www' | 'i', path: string): { type: string; body: string } | null {
  const m = /^\/(?:gb\/)?zoo\/([a-z-]+)(?:\.htm)?$/.exec(path);
  if (host === 'www' && path.startsWith('/gb/zoo/')) {
    const name = path.slice('/gb/zoo/'.length);
    if (name.startsWith('data-')) return { type: 'application/json; charset=utf-8', body: '{"ok":true}' };
    if (name.startsWith('events-')) return { type: 'text/event-stream', body: 'data: hello\n\n' };
    if (name.startsWith('beacon-')) return { type: 'text/plain; charset=utf-8', body: 'ok\n' };
    if (name.startsWith('script-') || name.startsWith('module-')) return { type: 'application/javascript; charset=utf-8', body: 'window.zooScript = 1;\n' };
    if (name.startsWith('landing-') || name === 'pushed.htm') return { type: 'text/html; charset=utf-8', body: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${name}</title></head><body><h1 id="landing">${name}</h1></body></html>\n` };
  }
  const c = m && ZOO_CASES.find((z) => z.id === m[1] && z.host === host);
  return c ? { type: 'text/html; charset=utf-8', body: page(c) } : null;
}
