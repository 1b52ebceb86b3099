import { type QueryKey, useInfiniteQuery } from '@tanstack/react-query';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CursorListOptions<T> {
  /** Read the loaded pages again every this many ms while it answers a number (e.g. while some
   * row is still being processed), else not. */
  pollWhile?: (records: T[]) => number | false;
}

/** A list read page by page with the API's cursors: one request per page, never everything. */
export function useCursorList<T>(
  key: QueryKey,
  fetchPage: (cursor?: string) => Promise<Page<T>>,
  options: CursorListOptions<T> = {},
) {
  const { pollWhile } = options;
  const query = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: pollWhile
      ? (q) => pollWhile(q.state.data?.pages.flatMap((p) => p.items) ?? [])
      : undefined,
  });
  const records = query.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...query, records };
}
