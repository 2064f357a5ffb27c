/**
 * The client shim: the first script of every mirrored page (see shimTag in ./shim-asset.ts). It maps
 * the URLs page scripts build while they run (hosts assembled from pieces, URLs from JSON, root-relative
 * URLs in a mounted origin's pages) with the server's own SiteMapper, patching the browser APIs that
 * load or navigate by prototype and always calling through to the original. It does not emulate
 * `location`, does not rewrite JavaScript source, installs once, and skips whatever a browser lacks.
 *
 * Bundled by src/client/build.ts (esbuild) into ./shim-asset.ts; a test keeps that file up to date and
 * under its size budget.
 */
import { lookupUrlAttribute, URL_ATTRIBUTES, type AttributeKind } from '../rewrite/url-attributes.ts';
import { createRuntimeMapper, type RuntimeMapper, type ShimSiteJson } from './runtime-map.ts';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const MARK = '__edgemirror';
/** An absolute or protocol-relative URL: the only kind the click and submit handlers touch (links the server wrote are relative). */
const ABSOLUTE = /^[\t\n\f\r ]*(https?:)?\/\//i;
/** `url(…)` in an inline style value set by a script. */
const CSS_URL = /url\(\s*(["']?)([^"')]*)\1\s*\)/gi;
/** Property names of URL attributes that differ from the attribute's name. */
const PROPS: Record<string, string> = { formaction: 'formAction', imagesrcset: 'imageSrcset' };

function install(w: Any): void {
  if (w[MARK]) return;
  const doc = w.document;
  const json = doc?.currentScript?.getAttribute('data-map');
  if (!json || !w.location) return;
  let m: RuntimeMapper;
  try {
    m = createRuntimeMapper(JSON.parse(json) as ShimSiteJson, w.location.origin, w.location.pathname);
  } catch {
    return;
  }
  Object.defineProperty(w, MARK, { value: m }); // read-only, not enumerable: the install-once mark

  /** Each patch on its own: a browser without the feature (or with it locked) just skips it. */
  const safe = (patch: () => void) => {
    try {
      patch();
    } catch {
      /* feature missing */
    }
  };
  /** The mapped URL, or the argument itself (same type) when it stays; URL objects by their text. */
  const url = (u: Any): Any => m.map(u == null ? u : String(u)) ?? u;
  const changed = (next: string, v: string) => (next === v ? null : next);
  const css = (v: string) => changed(v.replace(CSS_URL, (all, q: string, u: string) => {
    const next = m.map(u);
    return next === null ? all : `url(${q}${next}${q})`;
  }), v);
  const byKind = (kind: AttributeKind, v: string): string | null =>
    // srcset through the text rewriter (absolute and protocol-relative candidates): srcset.ts would cost a fifth of the budget.
    kind === 'srcset' ? changed(m.text(v), v) : kind === 'css' || (kind === 'url-or-css' && /^\s*url\(/i.test(v)) ? css(v) : m.map(v);
  /** Replaces a method on a prototype, calling through with the arguments `edit` returns. */
  const wrap = (proto: Any, name: string, edit: (args: Any[], self: Any) => void) =>
    safe(() => {
      const orig = proto[name];
      if (typeof orig !== 'function') return;
      proto[name] = function (this: Any, ...args: Any[]) {
        edit(args, this);
        return orig.apply(this, args);
      };
    });
  /** Replaces an accessor's setter (found on the prototype chain), calling through with `edit(value)`; patching one twice only maps twice (idempotent). */
  const setter = (proto: Any, prop: string, edit: (v: Any, self: Any) => Any) =>
    safe(() => {
      let owner = proto;
      let d;
      while (owner && !(d = Object.getOwnPropertyDescriptor(owner, prop))) owner = Object.getPrototypeOf(owner);
      if (!d?.set || !d.configurable) return;
      Object.defineProperty(owner, prop, {
        ...d,
        set(this: Any, v: Any) {
          d.set!.call(this, edit(v, this));
        },
      });
    });

  const proto = (name: string): Any => w[name]?.prototype;
  const E = proto('Element');
  const setAttr = E?.setAttribute;
  const removeAttr = E?.removeAttribute;
  /** A URL attribute's new value; drops `integrity` when a resource URL changed (the mirror may rewrite the body). */
  const attrValue = (el: Any, name: string, v: Any): Any => {
    if (name === 'srcdoc') return m.text(String(v));
    const row = lookupUrlAttribute(String(el.localName), name);
    if (!row) return v;
    const next = byKind(row.kind, String(v));
    if (next === null) return v;
    if ((name === 'src' || name === 'href') && removeAttr) removeAttr.call(el, 'integrity');
    return next;
  };

  // ── requests ──
  // (Operations of the window called with no `this` act on the window: calling through with the caller's `this` is safe.)
  wrap(w, 'fetch', (a) => {
    if (!(w.Request && a[0] instanceof w.Request)) return void (a[0] = url(a[0]));
    const next = m.map(a[0].url);
    try {
      if (next !== null) a[0] = new w.Request(next, a[0]);
    } catch {
      /* a Request that cannot be copied goes as it is */
    }
  });
  wrap(proto('XMLHttpRequest'), 'open', (a) => void (a[1] = url(a[1])));
  wrap(proto('Navigator'), 'sendBeacon', (a) => void (a[0] = url(a[0])));
  safe(() => {
    const ES = w.EventSource;
    if (typeof ES !== 'function') return;
    w.EventSource = class EventSource extends ES {
      constructor(u: Any, o?: Any) {
        super(url(u), o);
      }
    };
  });

  // ── element URL properties and attributes (the server's table) ──
  if (doc?.createElement) {
    for (const row of [...URL_ATTRIBUTES, lookupUrlAttribute('link', 'href')!]) {
      if (!row.tags || row.kind === 'css') continue;
      const prop = PROPS[row.attr] ?? row.attr;
      for (const tag of row.tags) {
        setter(Object.getPrototypeOf(doc.createElement(tag)), prop, (v, el) => attrValue(el, row.attr, v));
      }
    }
  }
  wrap(E, 'setAttribute', (a, el) => void (a[1] = attrValue(el, String(a[0]).toLowerCase(), a[1])));
  wrap(E, 'setAttributeNS', (a, el) => void (a[2] = attrValue(el, String(a[1]).replace(/^.*:/, '').toLowerCase(), a[2])));
  // Inline styles: Chromium's style objects carry their properties as interceptors, not accessors on a
  // prototype, so the style attribute is watched instead (however it changed: style.backgroundImage,
  // cssText, setProperty, setAttribute). Observer callbacks run before the next style recalculation,
  // i.e. before the browser fetches an image the new value names.
  safe(() =>
    new w.MutationObserver((records: Any[]) =>
      records.forEach((r) => {
        const next = css(r.target.getAttribute('style') ?? '');
        if (next !== null) setAttr.call(r.target, 'style', next);
      }),
    ).observe(doc, { attributeFilter: ['style'], subtree: true }),
  );

  // ── markup built as text ──
  for (const prop of ['innerHTML', 'outerHTML']) setter(E, prop, (v) => m.text(String(v)));
  setter(proto('HTMLIFrameElement'), 'srcdoc', (v) => m.text(String(v)));
  wrap(E, 'insertAdjacentHTML', (a) => void (a[1] = m.text(String(a[1]))));
  wrap(proto('Document'), 'write', (a) => a.forEach((s, i) => (a[i] = m.text(String(s)))));

  // ── navigation ──
  wrap(w, 'open', (a) => void (a[0] = url(a[0])));
  for (const name of ['pushState', 'replaceState']) wrap(proto('History'), name, (a) => void (a[2] = url(a[2])));
  const absolute = (v: Any) => (typeof v === 'string' && ABSOLUTE.test(v) ? m.map(v) : null);
  /**
   * A form pointing at an origin URL when it is submitted was built by a script (the server maps every
   * form's action). Links are left alone: a link the server kept on the origin (links.rules "keep", the
   * footer's original link) is meant to go there, and links scripts build are mapped as they are set.
   */
  const fix = (form: Any) => {
    const next = absolute(form?.getAttribute?.('action'));
    if (next !== null) setAttr.call(form, 'action', next);
  };
  safe(() => doc.addEventListener('submit', (e: Any) => fix(e.target), true));
  wrap(proto('HTMLFormElement'), 'submit', (_a, form) => fix(form));
  safe(() =>
    w.navigation.addEventListener('navigate', (e: Any) => {
      // Navigations scripts start (location.href = …): a reader's own click on a link the server kept
      // on the origin is theirs to follow. Hash changes and mirror URLs map to null.
      const next = e.cancelable && !e.userInitiated ? absolute(e.destination?.url) : null;
      if (next === null) return;
      e.preventDefault();
      w.location.assign(next);
    }),
  );
}

install(globalThis);
