/**
 * Stands in for the npm package react-style-singleton (console/vite.config.ts aliases it here), with its API.
 *
 * Radix's Dialog (GraphiQL's settings and keyboard-shortcut dialogs) locks the page's scroll through
 * react-remove-scroll, which adds its few rules with react-style-singleton: a <style> element, which the
 * Content-Security-Policy (style-src 'self', nothing inline) refuses. Here the same rules go into a constructed
 * stylesheet (document.adoptedStyleSheets): CSSOM, which the policy allows, so the dialogs behave as designed and
 * the policy stays as strict as the console's.
 */
import { useEffect } from 'react';

/** Adds `css` when the first user mounts, removes it when the last one unmounts (the original's contract). */
export function stylesheetSingleton(): { add(css: string): void; remove(): void } {
  let users = 0;
  let sheet: CSSStyleSheet | null = null;
  return {
    add(css) {
      if (users++ > 0) return;
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    },
    remove() {
      if (--users > 0 || !sheet) return;
      const gone = sheet;
      document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== gone);
      sheet = null;
    },
  };
}

export function styleHookSingleton(): (styles: string, isDynamic?: boolean) => void {
  const sheet = stylesheetSingleton();
  return (styles, isDynamic) => {
    useEffect(() => {
      sheet.add(styles);
      return () => sheet.remove();
    }, [styles && isDynamic]);   // as the original: new styles are applied only when `dynamic`
  };
}

export function styleSingleton(): (props: { styles: string; dynamic?: boolean }) => null {
  const useStyle = styleHookSingleton();
  return ({ styles, dynamic }) => {
    useStyle(styles, dynamic);
    return null;
  };
}
