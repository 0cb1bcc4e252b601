import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { CONSOLE_CSS } from "./styles.ts";

export interface NavItem {
  href: string;
  label: string;
}

export interface LayoutProps {
  title: string;
  nonce: string;
  /** which console: its name in the header */
  area: string;
  nav?: NavItem[];
  /** the current page's href (marked aria-current) */
  current?: string;
  /** signed in: who, and the sign-out form's action and CSRF token */
  who?: { label: string; signOutAction: string; csrf: string };
  flash?: { kind: "ok" | "err"; text: string } | null;
  children?: Child;
}

/** Every console page: skip link, header with navigation and sign-out, one main landmark. */
export function Layout(props: LayoutProps) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="same-origin" />
          <title>{`${props.title} · ${props.area}`}</title>
          {/* raw: a constant stylesheet (JSX would escape its quotes into &quot;, breaking font names) */}
          <style nonce={props.nonce}>{raw(CONSOLE_CSS)}</style>
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <span class="brand">IndexTTS2 API · {props.area}</span>
            {props.nav && (
              <nav aria-label="Console">
                {props.nav.map((item) => (
                  <a href={item.href} aria-current={item.href === props.current ? "page" : undefined}>
                    {item.label}
                  </a>
                ))}
              </nav>
            )}
            {props.who && (
              <div class="who">
                <span>{props.who.label}</span>
                <form class="inline" method="post" action={props.who.signOutAction}>
                  <input type="hidden" name="_csrf" value={props.who.csrf} />
                  <button type="submit" class="secondary">
                    Sign out
                  </button>
                </form>
              </div>
            )}
          </header>
          <main id="main" tabindex={-1}>
            {props.flash && (
              <div class={`flash ${props.flash.kind}`} role={props.flash.kind === "err" ? "alert" : "status"}>
                {props.flash.text}
              </div>
            )}
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

/** The hidden CSRF field every state-changing form carries. */
export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;
