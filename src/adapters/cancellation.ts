// An AbortSignal as a vscode-jsonrpc cancellation token, for requests that cross a process
// boundary: aborting cancels the request at the other end too. Dispose once the request ended.
import { CancellationTokenSource, type CancellationToken } from "vscode-jsonrpc/node";

export function cancellationOf(signal: AbortSignal | undefined): { token: CancellationToken; dispose(): void } {
  const source = new CancellationTokenSource();
  const cancel = () => source.cancel();
  signal?.addEventListener("abort", cancel);
  return {
    token: source.token,
    dispose: () => {
      signal?.removeEventListener("abort", cancel);
      source.dispose();
    },
  };
}
