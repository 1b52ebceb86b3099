import { Button, Group } from '@mantine/core';

/** The foot of every dialog form: Cancel, and the submit button (busy while it submits). */
export function FormActions(props: {
  onCancel: () => void;
  submitLabel: string;
  submitting: boolean;
}) {
  return (
    <Group justify="flex-end">
      <Button variant="default" onClick={props.onCancel}>
        Cancel
      </Button>
      <Button type="submit" loading={props.submitting}>
        {props.submitLabel}
      </Button>
    </Group>
  );
}
