import { type QueryKey, useInfiniteQuery } from '@tanstack/react-query';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A list read page by page with the API's cursors: one request per page, never everything. */
export function useCursorList<T>(key: QueryKey, fetchPage: (cursor?: string) => Promise<Page<T>>) {
  const query = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const records = query.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...query, records };
}
