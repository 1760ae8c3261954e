CREATE TABLE `authorization_codes` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`redirect_uri` text NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text NOT NULL,
	`code_challenge` text DEFAULT '' NOT NULL,
	`nonce` text DEFAULT '' NOT NULL,
	`scope` text DEFAULT '' NOT NULL,
	`auth_time` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `login_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`user_agent` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (unixepoch()) NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `login_sessions_user` ON `login_sessions` (`user_id`);--> statement-breakpoint
ALTER TABLE `login_failures` ADD `span` integer DEFAULT 300 NOT NULL;--> statement-breakpoint
ALTER TABLE `refresh_tokens` ADD `session_id` text;--> statement-breakpoint
CREATE INDEX `refresh_tokens_session` ON `refresh_tokens` (`session_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_userid_nocase` ON `users` (lower("userid"));