import { createTheme, type CSSVariablesResolver } from '@mantine/core';

/**
 * Mantine's defaults, with colours dark enough for WCAG AA contrast (4.5:1) on white: the
 * primary shade and the dimmed text are darker; and every dialog's and notification's close button has a name.
 */
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 6 },
  defaultRadius: 'sm',
  // No animations for people who asked their system for less motion.
  respectReducedMotion: true,
  components: {
    // A plain object, not Modal.extend(): that would pull the modal code into the first bundle.
    Modal: { defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } },
    Notification: { defaultProps: { closeButtonProps: { 'aria-label': 'Close notification' } } },
  },
});

export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)' },
  dark: {},
});
