import { Anchor, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { PageTitle } from '../components/Layout';

export function NotFoundPage() {
  return (
    <Stack>
      <PageTitle>Page not found</PageTitle>
      <Text>
        There is no such page in the console.{' '}
        <Anchor component={Link} to="/">
          Go to the overview
        </Anchor>
        .
      </Text>
    </Stack>
  );
}
