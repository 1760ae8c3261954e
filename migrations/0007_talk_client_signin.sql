CREATE TABLE `login_flows` (
	`poll_hash` text PRIMARY KEY NOT NULL,
	`login_hash` text NOT NULL,
	`client_name` text NOT NULL,
	`user_id` text,
	`sealed_app_password` text,
	`created_at` integer DEFAULT (unixepoch()) NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `login_flows_login` ON `login_flows` (`login_hash`);--> statement-breakpoint
CREATE TABLE `push_devices` (
	`app_password_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`push_token_hash` text NOT NULL,
	`device_public_key` text NOT NULL,
	`proxy_server` text NOT NULL,
	`device_identifier` text NOT NULL,
	`app_type` text DEFAULT 'unknown' NOT NULL,
	`created_at` integer DEFAULT (unixepoch()) NOT NULL,
	FOREIGN KEY (`app_password_id`) REFERENCES `app_passwords`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `push_devices_user` ON `push_devices` (`user_id`);--> statement-breakpoint
CREATE TABLE `user_keys` (
	`user_id` text PRIMARY KEY NOT NULL,
	`public_key_pem` text NOT NULL,
	`sealed_private_key` text NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `user_statuses` (
	`user_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`status_timestamp` integer NOT NULL,
	`is_user_defined` integer DEFAULT false NOT NULL,
	`message` text,
	`message_id` text,
	`icon` text,
	`clear_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
