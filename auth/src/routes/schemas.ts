import { z } from 'zod';

/** Emails are compared and stored trimmed and lowercased. */
export const email = z
  .string({ error: 'Email must be valid' })
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'Email must be valid' }).max(254, { error: 'Email must be valid' }));

export const signupBody = z.object({
  email,
  password: z
    .string({ error: 'Password must be between 8 and 128 characters' })
    .min(8, { error: 'Password must be between 8 and 128 characters' })
    .max(128, { error: 'Password must be between 8 and 128 characters' }),
});

export const signinBody = z.object({
  email,
  password: z
    .string({ error: 'You must supply a password' })
    .min(1, { error: 'You must supply a password' })
    .max(1024, { error: 'Invalid credentials' }),
});
