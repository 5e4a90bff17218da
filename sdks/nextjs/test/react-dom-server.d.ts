// The one function the tests use from react-dom/server (@types/react-dom is not a dev dependency).
declare module 'react-dom/server' {
  export function renderToString(node: import('react').ReactNode): string;
}
