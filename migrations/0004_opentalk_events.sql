CREATE TABLE `assets` (
	`id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`namespace` text,
	`kind` text NOT NULL,
	`filename` text NOT NULL,
	`content_type` text DEFAULT 'application/octet-stream' NOT NULL,
	`size` integer NOT NULL,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `assets_room` ON `assets` (`room_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `event_email_invites` (
	`event_id` text NOT NULL,
	`email` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `email`),
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `event_exceptions` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`exception_date` integer NOT NULL,
	`exception_date_tz` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`kind` text NOT NULL,
	`title` text,
	`description` text,
	`is_all_day` integer,
	`starts_at` integer,
	`starts_at_tz` text,
	`ends_at` integer,
	`ends_at_tz` text,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_exceptions_occurrence` ON `event_exceptions` (`event_id`,`exception_date`);--> statement-breakpoint
CREATE TABLE `event_favorites` (
	`user_id` text NOT NULL,
	`event_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `event_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `event_favorites_event` ON `event_favorites` (`event_id`);--> statement-breakpoint
CREATE TABLE `event_invites` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`invitee` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`role` text DEFAULT 'user' NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`invitee`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_invites_pair` ON `event_invites` (`event_id`,`invitee`);--> statement-breakpoint
CREATE INDEX `event_invites_invitee` ON `event_invites` (`invitee`);--> statement-breakpoint
CREATE TABLE `event_shared_folders` (
	`event_id` text PRIMARY KEY NOT NULL,
	`path` text NOT NULL,
	`write_share_id` text NOT NULL,
	`write_url` text NOT NULL,
	`write_password` text NOT NULL,
	`read_share_id` text NOT NULL,
	`read_url` text NOT NULL,
	`read_password` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`is_time_independent` integer NOT NULL,
	`is_all_day` integer,
	`starts_at` integer,
	`starts_at_tz` text,
	`ends_at` integer,
	`ends_at_tz` text,
	`last_ends_at` integer,
	`recurrence_pattern` text DEFAULT '[]' NOT NULL,
	`is_adhoc` integer DEFAULT false NOT NULL,
	`revision` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_room` ON `events` (`room_id`);--> statement-breakpoint
CREATE INDEX `events_created_by` ON `events` (`created_by`);--> statement-breakpoint
CREATE INDEX `events_order` ON `events` (`starts_at`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `room_streaming_targets` (
	`id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text DEFAULT 'custom' NOT NULL,
	`streaming_endpoint` text NOT NULL,
	`streaming_key` text NOT NULL,
	`public_url` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `room_streaming_targets_room` ON `room_streaming_targets` (`room_id`,`created_at`);